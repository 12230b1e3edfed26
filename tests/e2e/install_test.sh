#!/usr/bin/env bash
# `cmake --install` into a fresh prefix, then the installed CLI runs from there (the SentencePiece
# bridge is found in lib/tunebench), and CPack builds a .deb with the binaries, the .desktop entry
# and the icon. Usage: install_test.sh BUILD_DIR
set -u
BUILD=$1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0
check() { if [ "$2" -eq 0 ]; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi; }

cmake --install "$BUILD" --prefix "$TMP/prefix" >"$TMP/install.log" 2>&1
check "cmake --install" $?
for f in bin/tunebench-cli lib/tunebench/libtunebench_spm.so share/doc/tunebench/README.md; do
    [ -e "$TMP/prefix/$f" ]; check "installed $f" $?
done
if [ -e "$BUILD/app/gui/tunebench" ]; then
    for f in bin/tunebench share/applications/tunebench.desktop share/icons/hicolor/scalable/apps/tunebench.svg; do
        [ -e "$TMP/prefix/$f" ]; check "installed $f" $?
    done
fi
"$TMP/prefix/bin/tunebench-cli" init-demo "$TMP/demo" >/dev/null 2>&1
check "the installed CLI writes the demo (SentencePiece bridge found)" $?
if grep -q "TUNEBENCH_BUNDLE_TORCH:BOOL=ON" "$BUILD/CMakeCache.txt"; then
    # LibTorch and the CUDA libraries travel with the programs: nothing resolves outside the prefix
    ldd "$TMP/prefix/bin/tunebench-cli" > "$TMP/ldd" 2>&1
    grep -q "libtorch_cuda.so => $TMP/prefix/bin/../lib/tunebench/torch/lib/" "$TMP/ldd" &&
        grep -q "libcublas.so.13 => $TMP/prefix/bin/../lib/tunebench/" "$TMP/ldd" && ! grep -q "not found" "$TMP/ldd"
    check "the installed CLI loads the bundled LibTorch and CUDA libraries" $?
fi

(cd "$TMP" && cpack --config "$BUILD/CPackConfig.cmake" -G DEB >"$TMP/cpack.log" 2>&1)
check "cpack builds a .deb" $?
deb=$(ls "$TMP"/*.deb 2>/dev/null | head -1)
if [ -n "$deb" ]; then
    dpkg-deb -c "$deb" >"$TMP/contents"
    grep -q "./usr/bin/tunebench-cli" "$TMP/contents"; check ".deb contains tunebench-cli" $?
    if [ -e "$BUILD/app/gui/tunebench" ]; then
        grep -q "tunebench.desktop" "$TMP/contents"; check ".deb contains the .desktop entry" $?
        grep -q "apps/tunebench.svg" "$TMP/contents"; check ".deb contains the icon" $?
    fi
    dpkg-deb -f "$deb" Depends | grep -q "libqt6\|libtorch\|libc6"; check ".deb declares its library dependencies" $?
    if grep -q "TUNEBENCH_BUNDLE_TORCH:BOOL=ON" "$BUILD/CMakeCache.txt"; then
        grep -q "usr/lib/tunebench/torch/lib/libtorch_cuda.so" "$TMP/contents"; check ".deb carries LibTorch" $?
        # unpacked anywhere, its CLI runs with no Python environment (PATH and variables cleared)
        dpkg-deb -x "$deb" "$TMP/root"
        env -i HOME="$TMP" "$TMP/root/usr/bin/tunebench-cli" init-demo "$TMP/demo-deb" >"$TMP/deb-run.log" 2>&1
        check "the .deb's CLI runs from where it is unpacked" $?
    fi
else
    tail -20 "$TMP/cpack.log"
fi
echo "$fails failure(s)"
[ $fails -eq 0 ]
