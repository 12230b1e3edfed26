// A .zip imported in the Export tab (adapter) or the Datasets tab: extracted into a fresh folder
// under tight limits; afterwards nothing may exist outside it.
#include <QBuffer>
#include <QDir>

#include "fuzz_support.h"
#include "safe_unzip.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    QByteArray bytes(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::ReadOnly);
    const auto root = QString::fromStdString(tb::fuzz::scratch().string());
    const QString target = root + "/zip/target";
    QDir(root + "/zip").removeRecursively();
    QDir().mkpath(root + "/zip");
    tb::ui::unzipSafely(&buffer, "fuzz.zip", target, tb::ui::ZipLimits{1 << 20, 64});
    // Only the target may have been written.
    const auto entries = QDir(root + "/zip").entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden | QDir::System);
    if (!(entries.isEmpty() || entries == QStringList{"target"})) __builtin_trap();
    return 0;
}
