"""End to end through a real Nacos: ``dubbo-recsys serve --registry/--scenes nacos://...`` as the
console (Open API), unmodified Java consumers (java-client-sample, tags ``nacos-cluster`` and
``nacos-scenes``) and our own dubbo:// client see it. Needs NACOS_ADDR, JAVA_SAMPLE_DIR and
ARTIFACTS_ML100K from tests/run_all.sh; about 100 s in all."""
