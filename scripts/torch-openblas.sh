# Sourced by the scripts that time PyTorch (train-speed.sh, train-mnist.sh): issue 5 compares against Debian's
# python3-torch "with libopenblas0 installed, 1 thread". Debian's torch does its matrix products through the system
# BLAS (libblas.so.3); with only the reference BLAS a 64x1536x128 product takes 6-53 ms instead of 0.3-1.9 ms, which
# would flatter EdgeNet by an order of magnitude. So: install OpenBLAS if missing and load it explicitly, whatever the
# machine's BLAS alternative points to, with one BLAS thread.
openblas_dir=/usr/lib/x86_64-linux-gnu/openblas-pthread
[[ "$(uname -m)" == aarch64 ]] && openblas_dir=/usr/lib/aarch64-linux-gnu/openblas-pthread
if [[ ! -f $openblas_dir/libblas.so.3 ]]; then
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo=sudo
  $sudo apt-get install -y -qq libopenblas0-pthread > /dev/null
fi
torch_python() { LD_LIBRARY_PATH="$openblas_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 "$@"; }
