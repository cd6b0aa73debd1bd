"""The Java API both ways: Python services -> a Java API module, a Java API jar -> Python.

``dubbo-recsys java-api`` writes the Maven module a Java consumer compiles against
from the services' contracts; ``dubbo-recsys import-java`` reads an interface jar's
class files (no JVM) and writes the Python bindings and a service skeleton. Layers
(dependencies point down; only the two commands and ``archive`` do I/O)::

    export_command   java-api: services -> contracts -> mavenmodule -> files
    mavenmodule      the module's files: pom.xml, one .java file per top-level type
    javasource       Java source of an interface, POJO, enum or exception (Javadoc, imports)
    import_command   import-java: archive -> classfile -> imported -> pybindings -> files
    pybindings       Python source: contract.py (bindings) and service.py (skeleton)
    imported         the API the class files declare: services and the classes they reach
    signature        descriptors and generic signatures -> JavaType
    classfile        one class file's bytes -> ClassFile (JVMS chapter 4), bounded
    archive          the class files of a jar or directory, within size bounds
    errors           JavaApiError, ClassFileError, ArchiveError

Both directions share ``provider.javatype`` (hints <-> Java types) and
``provider.contract`` (the contract model), so they cannot disagree with the provider.
"""
