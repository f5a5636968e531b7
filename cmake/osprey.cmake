# Flags shared by every osprey target: warnings on, and errors in CI.
function(osprey_target_defaults target)
    target_compile_options(${target} PRIVATE -Wall -Wextra)
    if(OSPREY_WERROR)
        target_compile_options(${target} PRIVATE -Werror)
    endif()
    target_include_directories(${target} PUBLIC ${CMAKE_SOURCE_DIR}/src)
endfunction()
