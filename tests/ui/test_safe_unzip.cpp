// Adapter and dataset .zip import against crafted archives (issue 16 item 1): links, devices,
// names that leave the folder, duplicates, oversize and lying sizes are refused before anything
// lands outside the target, and a refused import leaves no folder behind.
#include <gtest/gtest.h>

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <quazip/quazip.h>
#include <quazip/quazipfile.h>
#include <quazip/quazipnewinfo.h>

#include "adapter_zip.h"
#include "safe_unzip.h"

using namespace tb::ui;

namespace {

struct Entry {
    QString name;
    QByteArray data;
    quint32 unixMode = 0100644;  // regular file
};

QString writeZip(const QString& path, const std::vector<Entry>& entries) {
    QuaZip zip(path);
    zip.setOsCode(3);  // made by Unix: the mode bits are meaningful
    if (!zip.open(QuaZip::mdCreate)) return "cannot create " + path;
    for (const auto& e : entries) {
        QuaZipNewInfo info(e.name);
        info.externalAttr = e.unixMode << 16;
        QuaZipFile f(&zip);
        if (!f.open(QIODevice::WriteOnly, info)) return "cannot add " + e.name;
        f.write(e.data);
        f.close();
    }
    zip.close();
    return {};
}

const ZipLimits kLimits{1 << 20, 100};

struct Fixture {
    QTemporaryDir dir;
    QString zip() const { return dir.filePath("in.zip"); }
    QString target() const { return dir.filePath("target"); }
    UnzipResult unzip(const std::vector<Entry>& entries, ZipLimits limits = kLimits) {
        EXPECT_EQ(writeZip(zip(), entries), QString());
        return unzipSafely(zip(), target(), limits);
    }
};

std::string text(const QString& s) { return s.toStdString(); }

}  // namespace

TEST(SafeUnzip, ExtractsAnOrdinaryArchive) {
    Fixture f;
    auto r = f.unzip({{"a.json", "[1]"}, {"sub/", "", 040755}, {"sub/b.csv", "x,y\n"}});
    ASSERT_TRUE(r.ok) << text(r.message);
    EXPECT_EQ(r.files, (QStringList{"a.json", "sub/b.csv"}));
    QFile b(f.target() + "/sub/b.csv");
    ASSERT_TRUE(b.open(QIODevice::ReadOnly));
    EXPECT_EQ(b.readAll(), "x,y\n");
}

TEST(SafeUnzip, LinksAreRefusedAndNothingLandsOutside) {
    Fixture f;
    QTemporaryDir outside;
    // lnk → outside folder, then lnk/file: the write would land in `outside`.
    auto r = f.unzip({{"lnk", outside.path().toUtf8(), 0120777}, {"lnk/file", "pwned"}});
    EXPECT_FALSE(r.ok);
    EXPECT_NE(text(r.message).find("symbolic link"), std::string::npos) << text(r.message);
    EXPECT_FALSE(QFile::exists(outside.filePath("file")));
    EXPECT_FALSE(QDir(f.target()).exists());
    // A link to /dev/zero (reading it would never end), and a link then a file of the same name.
    EXPECT_FALSE(f.unzip({{"data.json", "/dev/zero", 0120777}}).ok);
    QFile victim(outside.filePath("victim.txt"));
    ASSERT_TRUE(victim.open(QIODevice::WriteOnly));
    victim.write("keep me");
    victim.close();
    EXPECT_FALSE(f.unzip({{"v", victim.fileName().toUtf8(), 0120777}, {"v", "overwritten"}}).ok);
    ASSERT_TRUE(victim.open(QIODevice::ReadOnly));
    EXPECT_EQ(victim.readAll(), "keep me");
}

TEST(SafeUnzip, DevicesAndBadNamesAreRefused) {
    Fixture f;
    EXPECT_NE(text(f.unzip({{"dev", "", 0020644}}).message).find("device"), std::string::npos);
    EXPECT_NE(text(f.unzip({{"fifo", "", 0010644}}).message).find("device"), std::string::npos);
    for (const char* name : {"/etc/x", "../x", "a/../../x", "a/./b", "..", "a\\..\\x", "C:/x"}) {
        auto r = f.unzip({{"ok.json", "[]"}, {name, "x"}});
        EXPECT_FALSE(r.ok) << name;
        EXPECT_NE(text(r.message).find("leave the target folder"), std::string::npos) << name << ": " << text(r.message);
        EXPECT_FALSE(QDir(f.target()).exists()) << name;
    }
    EXPECT_NE(text(f.unzip({{"a.json", "1"}, {"a.json", "2"}}).message).find("twice"), std::string::npos);
    EXPECT_NE(text(f.unzip({{"a", "1"}, {"a/b", "2"}}).message).find("both as a file and as a folder"), std::string::npos);
}

TEST(SafeUnzip, SizesPastTheLimitAndLyingSizesAreRefused) {
    Fixture f;
    auto r = f.unzip({{"big.json", QByteArray(600 << 10, 'a')}, {"big2.json", QByteArray(600 << 10, 'b')}});
    EXPECT_FALSE(r.ok);
    EXPECT_NE(text(r.message).find("more than 1 MB"), std::string::npos) << text(r.message);
    EXPECT_FALSE(f.unzip({{"a", "1"}, {"b", "2"}, {"c", "3"}}, ZipLimits{1 << 20, 2}).ok);
    // An entry declaring 1 byte that inflates to 64 KB (a zip bomb's trick): reading stops at the
    // declared size (minizip, and our own count), the checksum then fails.
    ASSERT_EQ(writeZip(f.zip(), {{"bomb.json", QByteArray(64 << 10, 'z')}}), QString());
    QFile z(f.zip());
    ASSERT_TRUE(z.open(QIODevice::ReadWrite));
    QByteArray bytes = z.readAll();
    const quint32 one = 1;
    const int local = bytes.indexOf(QByteArray("PK\x03\x04", 4));
    const int central = bytes.indexOf(QByteArray("PK\x01\x02", 4));
    ASSERT_GE(local, 0);
    ASSERT_GT(central, 0);
    bytes.replace(local + 22, 4, reinterpret_cast<const char*>(&one), 4);
    bytes.replace(central + 24, 4, reinterpret_cast<const char*>(&one), 4);
    z.seek(0);
    z.write(bytes);
    z.close();
    r = unzipSafely(f.zip(), f.target(), kLimits);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(text(r.message).find("is damaged"), std::string::npos) << text(r.message);
    EXPECT_FALSE(QDir(f.target()).exists());
}

TEST(SafeUnzip, AdapterImportRefusesLinksAndLeavesNoFolder) {
    Fixture f;
    QTemporaryDir outside;
    ASSERT_EQ(writeZip(f.zip(), {{"adapter_config.json", "{}"},
                                 {"adapter_model.safetensors", "x"},
                                 {"lnk", outside.path().toUtf8(), 0120777},
                                 {"lnk/evil", "x"}}),
              QString());
    auto r = importAdapterZip(f.zip(), f.target());
    EXPECT_FALSE(r.ok);
    EXPECT_FALSE(QDir(f.target()).exists());
    EXPECT_TRUE(QDir(outside.path()).isEmpty());
    // No hidden partial folder is left beside the target either.
    EXPECT_EQ(QDir(f.dir.path()).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden), QStringList{"in.zip"});
}
