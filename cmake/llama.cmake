# llama.cpp, built by scripts/setup into a cache outside the clone and linked
# here as static libraries. Only src/engine and tools/ may link osprey::llama.

if(NOT EXISTS "${OSPREY_LLAMA_DIR}/include/llama.h")
    message(FATAL_ERROR
        "llama.cpp is not built at ${OSPREY_LLAMA_DIR}: run scripts/setup first")
endif()

find_package(OpenMP REQUIRED)

set(_llama_lib "${OSPREY_LLAMA_DIR}/lib")
set(_llama_archives
    llama-common llama-common-base cpp-httplib mtmd vendor-hash llama ggml ggml-cpu ggml-base)

set(_llama_paths)
foreach(name IN LISTS _llama_archives)
    set(path "${_llama_lib}/lib${name}.a")
    if(NOT EXISTS "${path}")
        message(FATAL_ERROR "missing ${path}: rerun scripts/setup")
    endif()
    list(APPEND _llama_paths "${path}")
endforeach()

add_library(osprey_llama INTERFACE)
add_library(osprey::llama ALIAS osprey_llama)
# The archives reference one another in both directions (common and mtmd call
# into llama and ggml; ggml's registry calls into its CPU backend), so they are
# linked as one group.
target_link_libraries(osprey_llama INTERFACE
    "$<LINK_GROUP:RESCAN,${_llama_paths}>"
    OpenMP::OpenMP_CXX Threads::Threads ${CMAKE_DL_LIBS} m)
# SYSTEM: llama.cpp's headers are not held to osprey's warning flags.
target_include_directories(osprey_llama SYSTEM INTERFACE
    "${OSPREY_LLAMA_DIR}/include"
    "${OSPREY_LLAMA_DIR}/include/common")
