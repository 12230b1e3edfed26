# Install rules and CPack (.deb). The SentencePiece bridge goes to lib/tunebench (engine CMake).
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION share/doc/tunebench)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/datasets/ DESTINATION share/tunebench/datasets)

set(CPACK_PACKAGE_NAME tunebench)
set(CPACK_PACKAGE_VENDOR "Tunebench")
set(CPACK_PACKAGE_CONTACT "Tunebench team")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Desktop workbench for LoRA/QLoRA fine-tuning of LLMs")
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
include(CPack)
