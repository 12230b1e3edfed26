# Install rules and CPack (.deb). The SentencePiece bridge goes to lib/tunebench (engine CMake).
# The installed programs find LibTorch through their RPATH (CMAKE_INSTALL_RPATH_USE_LINK_PATH,
# set before the targets in ../CMakeLists.txt).
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
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libopenblas0-pthread, fonts-wqy-microhei, qt6-translations-l10n")  # fast fp32 matmuls on CPU; CJK glyphs; Chinese Qt dialogs
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
include(CPack)
