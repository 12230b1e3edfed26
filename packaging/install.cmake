# Install rules and CPack (.deb). The SentencePiece bridge goes to lib/tunebench (engine CMake).
# The installed programs find LibTorch through their RPATH (../CMakeLists.txt); with
# TUNEBENCH_BUNDLE_TORCH the wheel's libraries are installed beside them here.
if(TUNEBENCH_BUNDLE_TORCH)
    # libtorch_python / libshm belong to Python's torch module; the programs never load them.
    install(DIRECTORY ${TORCH_INSTALL_PREFIX}/lib/ DESTINATION lib/tunebench/torch/lib
            FILES_MATCHING PATTERN "*.so*" PATTERN "libtorch_python*" EXCLUDE PATTERN "libshm*" EXCLUDE)
    # Left out: multi-node plugins (NVSHMEM's MPI/PMIx/SHMEM bootstraps and InfiniBand/UCX/libfabric
    # transports, cuFile's RDMA), which need cluster libraries a workstation does not have.
    install(DIRECTORY ${TB_TORCH_SITE}/nvidia/ DESTINATION lib/tunebench/nvidia
            FILES_MATCHING PATTERN "*.so*" PATTERN "include" EXCLUDE PATTERN "__pycache__" EXCLUDE
            PATTERN "nvshmem_bootstrap_*" EXCLUDE PATTERN "nvshmem_transport_*" EXCLUDE PATTERN "libcufile_rdma*" EXCLUDE)
    set(CPACK_DEBIAN_COMPRESSION_TYPE zstd)  # gigabytes of CUDA libraries: fast, multi-threaded
    set(CPACK_THREADS 0)
endif()
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION share/doc/tunebench)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/datasets/ DESTINATION share/tunebench/datasets)
if(TARGET tunebench)
    install(FILES ${PROJECT_SOURCE_DIR}/packaging/tunebench.desktop DESTINATION share/applications)
    install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/tunebench.svg DESTINATION share/icons/hicolor/scalable/apps)
endif()

set(CPACK_PACKAGE_NAME tunebench)
set(CPACK_PACKAGE_VENDOR "Tunebench")
set(CPACK_PACKAGE_CONTACT "Tunebench team")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Desktop workbench for LoRA/QLoRA fine-tuning of LLMs")
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
if(TUNEBENCH_BUNDLE_TORCH)  # the bundled libraries resolve each other, not through Debian packages
    set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS "${TORCH_INSTALL_PREFIX}/lib")
    # libcuda.so.1 is the NVIDIA driver's (libcaffe2_nvrtc needs it): the toolkit's stub stands in
    # while dependencies are computed; the package does not ship it.
    find_file(TB_CUDA_DRIVER_STUB libcuda.so PATHS ${CUDAToolkit_LIBRARY_DIR}/stubs /usr/local/cuda/lib64/stubs NO_DEFAULT_PATH)
    if(TB_CUDA_DRIVER_STUB)
        file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/driver-stub)
        file(CREATE_LINK ${TB_CUDA_DRIVER_STUB} ${CMAKE_BINARY_DIR}/driver-stub/libcuda.so.1 SYMBOLIC)
        list(APPEND CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${CMAKE_BINARY_DIR}/driver-stub)
    endif()
    foreach(dir ${TB_NVIDIA_PACKAGES})
        if(IS_DIRECTORY "${dir}/lib")
            list(APPEND CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS "${dir}/lib")
        endif()
    endforeach()
endif()
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libopenblas0-pthread, fonts-wqy-microhei, qt6-translations-l10n")  # fast fp32 matmuls on CPU; CJK glyphs; Chinese Qt dialogs
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
include(CPack)
