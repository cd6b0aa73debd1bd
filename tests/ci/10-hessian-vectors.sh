# Hessian 2 reference vectors (sourced by tests/run_all.sh).
# Builds tests/java/hessian-vectors against the hessian-lite that Dubbo 3.3.x uses
# and exports its classpath for tests/hessian2/test_java_vectors.py, which
# regenerates the Java vectors and has Java check what Python writes.
# Offline first (fast when ~/.m2 is warm), online on a fresh machine. ~5-10 s.
_hv_dir="$REPO_ROOT/tests/java/hessian-vectors"
_hv_cp_file="$CI_WORK/hessian-vectors.classpath"
_hv_goals=(-q compile dependency:build-classpath "-Dmdep.outputFile=$_hv_cp_file")
if ! (cd "$_hv_dir" && mvn -o "${_hv_goals[@]}" >/dev/null 2>&1); then
  (cd "$_hv_dir" && mvn "${_hv_goals[@]}")
fi
export HESSIAN_VECTORS_CP="$_hv_dir/target/classes:$(cat "$_hv_cp_file")"
unset _hv_dir _hv_cp_file _hv_goals
