# Flags shared by every osprey target: warnings on, errors in CI, and the
# sanitizers that the hardening builds ask for (make test-asan, test-tsan, fuzz).

option(OSPREY_FUZZ "Build tests/fuzz as libFuzzer targets, everything under ASan and UBSan" OFF)
set(OSPREY_SANITIZE "" CACHE STRING
    "Sanitizers for every osprey target: empty, address (ASan and UBSan) or thread")
set_property(CACHE OSPREY_SANITIZE PROPERTY STRINGS "" address thread)

if(NOT OSPREY_SANITIZE MATCHES "^(|address|thread)$")
    message(FATAL_ERROR "OSPREY_SANITIZE is '${OSPREY_SANITIZE}': use '', address or thread")
endif()
if(OSPREY_FUZZ AND NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "OSPREY_FUZZ needs clang (libFuzzer): configure with CXX=clang++")
endif()
if(OSPREY_FUZZ AND OSPREY_SANITIZE STREQUAL "thread")
    message(FATAL_ERROR "OSPREY_FUZZ runs under ASan and UBSan; it cannot take thread")
endif()

set(osprey_sanitize_compile_options)
set(osprey_sanitize_link_options)
if(OSPREY_SANITIZE STREQUAL "address" OR OSPREY_FUZZ)
    # A UB report aborts the process, so that a test or a fuzz run fails on
    # it whatever UBSAN_OPTIONS the caller sets.
    set(osprey_sanitize_compile_options
        -fsanitize=address,undefined -fno-sanitize-recover=undefined)
    set(osprey_sanitize_link_options -fsanitize=address,undefined)
elseif(OSPREY_SANITIZE STREQUAL "thread")
    # gcc warns that TSan cannot see atomic_thread_fence, which Asio's
    # handler invocation uses on top of its scheduler's mutex; the mutex is
    # what orders handlers, and TSan sees it.
    set(osprey_sanitize_compile_options -fsanitize=thread $<$<CXX_COMPILER_ID:GNU>:-Wno-tsan>)
    set(osprey_sanitize_link_options -fsanitize=thread)
endif()
if(osprey_sanitize_compile_options)
    # Frame pointers give the sanitizers' reports whole stacks at no cost.
    list(APPEND osprey_sanitize_compile_options -fno-omit-frame-pointer)
endif()
if(OSPREY_FUZZ)
    # Coverage for libFuzzer in every library it reaches; the fuzz targets
    # alone link its main (-fsanitize=fuzzer, see tests/fuzz).
    list(APPEND osprey_sanitize_compile_options -fsanitize=fuzzer-no-link)
endif()

function(osprey_target_defaults target)
    target_compile_options(${target} PRIVATE -Wall -Wextra ${osprey_sanitize_compile_options})
    if(OSPREY_WERROR)
        target_compile_options(${target} PRIVATE -Werror)
    endif()
    if(osprey_sanitize_link_options)
        # PUBLIC: whatever links an instrumented static library needs the runtime.
        target_link_options(${target} PUBLIC ${osprey_sanitize_link_options})
    endif()
    target_include_directories(${target} PUBLIC ${CMAKE_SOURCE_DIR}/src)
endfunction()
