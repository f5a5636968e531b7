# Sourced by scripts/setup and bench/run: which llama.cpp osprey builds on,
# where its builds are cached, and how its source is unpacked. Both build from
# the same source with the same ggml flags, so that the benchmark compares
# osprey with llama.cpp's own tools on one engine.
#
# Environment:
#   OSPREY_CACHE   where built dependencies live (default ~/.cache/osprey)
#   OSPREY_NATIVE  ON (default) tunes ggml for this CPU; OFF builds a portable
#                  binary that runs on any x86-64 machine.

readonly node_llama_cpp_version=3.21.1
readonly cache=${OSPREY_CACHE:-$HOME/.cache/osprey}
readonly native=${OSPREY_NATIVE:-ON}
readonly flavour=node-llama-cpp-${node_llama_cpp_version}-native-${native}

# The flags every llama.cpp build here shares.
llama_cmake_flags=(
    -DCMAKE_BUILD_TYPE=Release
    -DBUILD_SHARED_LIBS=OFF
    -DGGML_NATIVE="$native"
    -DGGML_CCACHE=OFF
)
if command -v ccache >/dev/null; then
    llama_cmake_flags+=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

# Unpacks llama.cpp's source into $1/src from the npm package: its git bundle
# plus the patches the package applies when it builds llama.cpp itself.
fetch_llama_source() {
    local work=$1
    printf 'fetching node-llama-cpp@%s from npm\n' "$node_llama_cpp_version" >&2
    (cd "$work" && npm pack --silent "node-llama-cpp@$node_llama_cpp_version" >/dev/null)
    tar -xzf "$work/node-llama-cpp-$node_llama_cpp_version.tgz" -C "$work" package/llama
    git clone --quiet "$work/package/llama/gitRelease.bundle" "$work/src" 2>/dev/null
    local patch
    for patch in "$work"/package/llama/patches/*.diff; do
        [ -e "$patch" ] || continue
        git -C "$work/src" apply "$patch"
    done
}
