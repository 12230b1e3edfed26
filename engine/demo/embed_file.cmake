# Writes OUTPUT: a C++ file defining std::string_view tb::FUNCTION() with INPUT's bytes.
file(READ ${INPUT} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUTPUT} "// generated from ${INPUT}\n#include <string_view>\nnamespace tb {\nstatic const unsigned char kBytes[] = {${bytes}};\nstd::string_view ${FUNCTION}() { return {reinterpret_cast<const char*>(kBytes), sizeof(kBytes)}; }\n}\n")
