# Writes OUTPUT: a C++ file defining tb::embedded_demo_dataset() with INPUT's bytes.
file(READ ${INPUT} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUTPUT} "// generated from ${INPUT}\n#include <string_view>\nnamespace tb {\nstatic const unsigned char kDemo[] = {${bytes}};\nstd::string_view embedded_demo_dataset() { return {reinterpret_cast<const char*>(kDemo), sizeof(kDemo)}; }\n}\n")
