// Drives the real window offscreen: the top bar and the six tabs, the demo loading in the Chat
// tab, a streamed reply and Stop, training from the Train tab with its chart and estimates, chat
// with the trained adapter beside the base model, export with its check, adapter zip share and
// import, evaluation over a dataset, dataset import from a zip with the token preview, the CSV
// wizard, and switching the language. Saves a PNG of every tab (in both languages) and of every
// wizard page under the build tree for review.
#include <QDoubleSpinBox>
#include <QLabel>
#include <QSettings>
#include <QStatusBar>
#include <QPushButton>
#include <QCheckBox>
#include <QLineEdit>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <QComboBox>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTableWidget>
#include <quazip/JlCompress.h>

#include "analyze_page.h"
#include "chat_page.h"
#include "datasets_page.h"
#include "evaluate_page.h"
#include "model_bar.h"
#include "demo/demo_model.h"
#include "engine_controller.h"
#include "engine_worker.h"
#include "confirm.h"
#include "main_window.h"
#include "export_page.h"
#include "predict_wizard.h"
#include "session_restore.h"
#include "train/trainer.h"
#include "train_page.h"

using namespace tb::ui;

// The window shown on a fresh demo written into dir (what a first launch does).
static void showOnDemo(MainWindow& w, const QString& dir) {
    tb::init_demo(dir.toStdString());
    w.show();
    w.openDemo(dir);
}

class MainWindowTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // app/gui/main.cpp's start: a first launch writes and opens the demo (Train ready on the demo
    // dataset); the next launch restores the language and model the user chose; a demo folder that
    // cannot be written is reported in the status bar, not a crash.
    void chatShowsAThoughtApart() {
        // a reasoning model's streamed reply (Qwen3): its thought under a heading that reads
        // "Thinking…" while it streams and "Thought" once it closes, the tags gone, then the answer
        MainWindow w;
        auto* chat = w.chatPage();
        auto* worker = w.engine()->worker();
        Q_EMIT worker->chatChunk("<thi", 0);
        Q_EMIT worker->chatChunk("nk>\n想一", 0);
        QVERIFY(chat->transcript().endsWith("Thinking…\n想一"));
        Q_EMIT worker->chatChunk("想</think>\n\n多休息，", 0);
        Q_EMIT worker->chatChunk("多喝水。", 0);
        Q_EMIT worker->chatFinished("stop", 9, 1.0, 0);
        QVERIFY2(chat->transcript().contains("Thought\n想一想\n多休息，多喝水。"), qPrintable(chat->transcript()));
        QVERIFY(!chat->transcript().contains("think>"));
        QVERIFY(!chat->transcript().contains("Thinking"));
    }

    void firstLaunchOpensTheDemoThenRestores() {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        QSettings settings(tmp.path() + "/settings.ini", QSettings::IniFormat);
        settings.setValue("language", "en");
        const QString stories = QStringLiteral(TB_SHARED_DIR) + "/models/stories260K-hf";
        {
            MainWindow w;
            w.show();
            QVERIFY(restoreSession(w, settings, QString(), tmp.path() + "/data"));
            QVERIFY(QFile::exists(tmp.path() + "/data/demo/model/tokenizer.model"));
            QCOMPARE(w.modelBar()->modelDir(), tmp.path() + "/data/demo/model");
            QCOMPARE(w.tabs()->currentWidget(), static_cast<QWidget*>(w.trainPage()));
            const auto args = w.trainPage()->arguments();
            QCOMPARE(args.value("dataset").toString(), QString("tunebench_demo"));
            QCOMPARE(args.value("dataset_dir").toString(), tmp.path() + "/data/demo/data");
            QCOMPARE(settings.value("model").toString(), tmp.path() + "/data/demo/model");
            w.setLanguage("zh_CN");
            w.modelBar()->setModelDir(stories);
        }
        QCOMPARE(settings.value("language").toString(), QString("zh_CN"));
        {
            MainWindow w;
            w.show();
            QVERIFY(restoreSession(w, settings, QString(), tmp.path() + "/data"));
            QCOMPARE(w.modelBar()->modelDir(), stories);
            QCOMPARE(w.tabs()->tabText(0), QString("训练"));
            w.setLanguage("en");
        }
        {
            QFile blocker(tmp.path() + "/file");
            QVERIFY(blocker.open(QIODevice::WriteOnly));
            blocker.close();
            MainWindow w;
            w.show();
            QVERIFY(!restoreSession(w, settings, tmp.path() + "/file/demo", tmp.path() + "/data"));
            QVERIFY2(w.statusBar()->currentMessage().contains("could not be written"), qPrintable(w.statusBar()->currentMessage()));
        }
    }

    void tabsDemoChatAndStop() {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        tb::init_demo(tmp.path().toStdString());
        MainWindow w;
        w.show();
        QStringList names;
        for (int i = 0; i < w.tabs()->count(); ++i) names << w.tabs()->tabText(i);
        QCOMPARE(names, QStringList({"Train", "Evaluate && Predict", "Chat", "Export", "Datasets", "Analyze"}));

        auto* chat = w.chatPage();
        QSignalSpy loaded(chat, &ChatPage::loaded);
        w.openDemo(tmp.path());
        QVERIFY(loaded.wait(60000));
        QVERIFY(loaded.first().first().toString().contains("ChatGLM"));
        // the top bar detected the model and shows the device's memory
        QTRY_VERIFY_WITH_TIMEOUT(w.modelBar()->modelInfo().contains("chatglm3"), 10000);
        QVERIFY2(w.modelBar()->modelInfo().startsWith("ChatGLM"), qPrintable(w.modelBar()->modelInfo()));
        QVERIFY2(w.modelBar()->memoryText().contains("GiB free"), qPrintable(w.modelBar()->memoryText()));

        // A reply streams in: chunks arrive from the worker and tokens were generated.
        QSignalSpy finished(chat, &ChatPage::replyFinished);
        QSignalSpy chunks(w.engine()->worker(), &EngineWorker::chatChunk);
        QSignalSpy done(w.engine()->worker(), &EngineWorker::chatFinished);
        chat->send("你好");
        QVERIFY(finished.wait(60000));
        // The spies on the worker record in the worker thread, possibly just after the page
        // (queued) has already seen the finish: wait for them rather than read them once.
        QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 10000);
        QVERIFY2(done.first().at(0).toString() != "error", "the reply failed");
        QVERIFY(done.first().at(1).toLongLong() > 0);
        QTRY_VERIFY_WITH_TIMEOUT(chunks.count() >= 1, 10000);
        QVERIFY(chat->transcript().contains("User: 你好"));
        QVERIFY(chat->transcript().contains(chunks.first().first().toString()));

        // Stop, pressed as soon as the request is queued, cancels the reply (a Stop that
        // reaches the worker before it starts must not be lost).
        finished.clear();
        chat->send("Who are you?");
        QVERIFY(chat->stopButton()->isEnabled());
        QTest::mouseClick(chat->stopButton(), Qt::LeftButton);
        QVERIFY(finished.wait(60000));
        QCOMPARE(finished.first().first().toString(), QString("cancelled"));

        // Deterministic form: while reply A is generating, request B and press Stop. Stop
        // stops A, and B (queued behind it) must not start as if Stop had never been pressed.
        QTRY_COMPARE_WITH_TIMEOUT(done.count(), 2, 10000);  // both earlier replies recorded, then reset
        done.clear();
        w.engine()->requestChat("A", 0.95, 0.7, 4096);
        w.engine()->requestChat("B", 0.95, 0.7, 4096);
        w.engine()->requestStop();
        QTRY_COMPARE_WITH_TIMEOUT(done.count(), 2, 60000);
        QCOMPARE(done.at(0).at(0).toString(), QString("cancelled"));
        QCOMPARE(done.at(1).at(0).toString(), QString("cancelled"));

        const QString shots = QStringLiteral(TB_SCREENSHOT_DIR);
        QDir().mkpath(shots);
        for (int i = 0; i < w.tabs()->count(); ++i) {
            w.tabs()->setCurrentIndex(i);
            QApplication::processEvents();
            QVERIFY(w.grab().save(shots + QString("/tab-%1.png").arg(i)));
        }

        // switching the language changes the visible labels at once, and back
        w.setLanguage("zh_CN");
        QCOMPARE(w.tabs()->tabText(0), QString("训练"));
        QCOMPARE(w.tabs()->tabText(2), QString("对话"));
        QCOMPARE(w.trainPage()->startButton()->text(), QString("开始"));
        QCOMPARE(w.chatPage()->stopButton()->text(), QString("停止"));
        bool browseTranslated = false;  // the folder fields' buttons, made by a shared helper
        for (auto* b : w.trainPage()->findChildren<QPushButton*>()) browseTranslated = browseTranslated || b->text() == "浏览…";
        QVERIFY(browseTranslated);
        QVERIFY2(w.modelBar()->memoryText().contains("可用"), qPrintable(w.modelBar()->memoryText()));
        for (int i = 0; i < w.tabs()->count(); ++i) {
            w.tabs()->setCurrentIndex(i);
            QApplication::processEvents();
            QVERIFY(w.grab().save(shots + QString("/tab-%1-zh.png").arg(i)));
        }
        w.setLanguage("en");
        QCOMPARE(w.tabs()->tabText(0), QString("Train"));
        QCOMPARE(w.trainPage()->startButton()->text(), QString("Start"));
    }

    // The Train tab on the demo: Start from the window, loss points reach the chart, the run
    // finishes and leaves an adapter; a second run is stopped with Stop & save.
    void trainOnTheDemo() {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        MainWindow w;
        showOnDemo(w, tmp.path());
        auto* train = w.trainPage();
        w.tabs()->setCurrentWidget(train);
        train->epochsBox()->setValue(5);  // 40 steps of 4 examples, a loss point every 10
        // the form round-trips through a training_args YAML (what tunebench-cli train reads)
        const QString yaml = tmp.path() + "/args.yaml";
        QVERIFY(train->saveArguments(yaml));
        const QString before = train->previewYaml();
        train->epochsBox()->setValue(99);
        QVERIFY(train->loadArguments(yaml));
        QCOMPARE(train->previewYaml(), before);
        QVERIFY2(train->estimate().contains("fits"), qPrintable(train->estimate()));  // the tiny demo fits anywhere
        // the time estimate reads the dataset (32 examples → 40 steps at batch 4, 5 epochs)
        QTRY_VERIFY_WITH_TIMEOUT(train->estimateText().contains("Time ≈"), 60000);
        QVERIFY2(train->estimateText().contains("for 40 steps over 32 examples"), qPrintable(train->estimateText()));
        QSignalSpy done(train, &TrainPage::trainingFinished);
        // a fresh, timestamped folder beside the model, as LlamaBoard's saves/<model>/<method>/train_<time>
        const QString firstRun = train->outputDir();
        QVERIFY2(firstRun.startsWith(tmp.path() + "/saves/model/lora/train_"), qPrintable(firstRun));
        QTest::mouseClick(train->startButton(), Qt::LeftButton);
        QVERIFY(!train->startButton()->isEnabled());
        QVERIFY(done.wait(120000));
        QVERIFY2(done.first().at(0).toBool(), qPrintable(train->logText()));
        QCOMPARE(train->lossPoints(), 4);
        QVERIFY(QFile::exists(firstRun + "/adapter_model.safetensors"));
        // the bar now offers the new adapter, but the next run starts fresh, in a new folder,
        // unless "Start from the adapter" is ticked
        QVERIFY(w.modelBar()->adapterDir().startsWith(firstRun));
        QVERIFY(train->outputDir() != firstRun);
        QVERIFY(!train->fromAdapterBox()->isChecked());
        QVERIFY(train->fromAdapterBox()->isEnabled());
        QVERIFY2(!train->previewYaml().contains("adapter_name_or_path"), qPrintable(train->previewYaml()));
        train->fromAdapterBox()->setChecked(true);
        QVERIFY(train->previewYaml().contains("adapter_name_or_path: " + w.modelBar()->adapterDir()));
        train->fromAdapterBox()->setChecked(false);
        QVERIFY(train->startButton()->isEnabled());
        const QString shots = QStringLiteral(TB_SCREENSHOT_DIR);
        QDir().mkpath(shots);
        QVERIFY(w.grab().save(shots + "/train-finished.png"));

        done.clear();
        train->setOutputDir(tmp.path() + "/lora-stopped");  // lora-gui holds a run now: never overwritten silently
        train->epochsBox()->setValue(200);
        QTest::mouseClick(train->startButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(train->lossPoints() >= 1, 60000);
        QTest::mouseClick(train->stopButton(), Qt::LeftButton);
        QVERIFY(done.wait(60000));
        QVERIFY(done.first().at(0).toBool());
        QVERIFY(train->logText().contains("Stopped and saved"));
        QVERIFY(train->lossPoints() < 160);  // it did stop early

        // the stopped run is offered in the top bar's adapter picker
        QVERIFY(w.modelBar()->adapterDir().endsWith("lora-stopped"));

        // Chat with the adapter trained first, beside the base model
        w.modelBar()->addRunFolder(firstRun);
        QVERIFY(w.modelBar()->adapterDir().startsWith(firstRun));
        auto* chat = w.chatPage();
        QSignalSpy chatLoaded(chat, &ChatPage::loaded);
        chat->setCompareWithBase(true);
        w.modelBar()->setArgument("flash_attn", "disabled");  // the bar's kernel reaches the chat model
        chat->load();
        QVERIFY(chatLoaded.wait(60000));
        QVERIFY2(chatLoaded.first().first().toString().contains("adapter"), qPrintable(chatLoaded.first().first().toString()));
        QSignalSpy replied(chat, &ChatPage::replyFinished);
        chat->send("Tunebench 是什么？");
        QVERIFY(replied.wait(60000));
        QCOMPARE(replied.count(), 1);  // one finish, after both sides answered
        QVERIFY(chat->transcript().contains("Assistant: "));
        QVERIFY(chat->baseTranscript().contains("User: Tunebench 是什么？"));
        QVERIFY(chat->baseTranscript().section("Assistant: ", 1).trimmed().size() > 0);
        QVERIFY(chat->transcript() != chat->baseTranscript());  // the adapter changed the answer
        w.tabs()->setCurrentWidget(chat);
        QVERIFY(w.grab().save(shots + "/chat-compare.png"));

        // Export the adapter just trained: written, reloaded and checked against base + adapter.
        auto* exp = w.exportPage();
        w.tabs()->setCurrentWidget(exp);
        QSignalSpy exported(exp, &ExportPage::exportFinished);
        QTest::mouseClick(exp->exportButton(), Qt::LeftButton);
        QVERIFY(exported.wait(120000));
        QVERIFY2(exported.first().at(0).toBool(), qPrintable(exp->resultText()));
        QVERIFY(QFile::exists(tmp.path() + "/merged/model.safetensors"));
        QVERIFY(exp->resultText().contains("verified"));
        QVERIFY(w.grab().save(shots + "/export-finished.png"));

        // The same as one GGUF file for llama.cpp / Ollama, read back and checked
        exp->formatBox()->setCurrentText("gguf");
        QVERIFY(exp->ggufTypeBox()->isEnabled());
        exp->ggufTypeBox()->setCurrentText("Q8_0");
        exp->setExportDir(tmp.path() + "/gguf");
        QSignalSpy exportedGguf(exp, &ExportPage::exportFinished);
        QTest::mouseClick(exp->exportButton(), Qt::LeftButton);
        QVERIFY(exportedGguf.wait(120000));
        QVERIFY2(exportedGguf.first().at(0).toBool(), qPrintable(exp->resultText()));
        QVERIFY(QFile::exists(tmp.path() + "/gguf/model-Q8_0.gguf"));
        QVERIFY(QFile::exists(tmp.path() + "/gguf/Modelfile"));
        QVERIFY2(exp->resultText().contains("greedy tokens agree"), qPrintable(exp->resultText()));
        exp->formatBox()->setCurrentText("safetensors");

        // Merged and written 4-bit (bitsandbytes NF4), checked against the same quantization here
        QVERIFY(exp->quantizeBox()->isEnabled());
        exp->quantizeBox()->setCurrentIndex(1);
        exp->compareBox()->setChecked(true);  // and seed 004's table after it
        exp->setExportDir(tmp.path() + "/nf4");
        QSignalSpy exportedNf4(exp, &ExportPage::exportFinished);
        QTest::mouseClick(exp->exportButton(), Qt::LeftButton);
        QVERIFY(exportedNf4.wait(120000));
        QVERIFY2(exportedNf4.first().at(0).toBool(), qPrintable(exp->resultText()));
        QFile nf4Config(tmp.path() + "/nf4/config.json");
        QVERIFY(nf4Config.open(QIODevice::ReadOnly));
        QVERIFY(nf4Config.readAll().contains("\"quant_method\": \"bitsandbytes\""));
        for (const char* row : {"base + adapter", "merged, int8", "merged, NF4", "nf4 "})
            QVERIFY2(exp->logText().contains(row), qPrintable(exp->logText().right(1500)));
        exp->compareBox()->setChecked(false);
        exp->quantizeBox()->setCurrentIndex(0);

        // Share the adapter as a zip and import it into a new folder
        const QString zip = tmp.path() + "/shared-adapter.zip";
        QVERIFY2(exp->shareAdapter(zip), qPrintable(exp->resultText()));
        const QStringList entries = JlCompress::getFileList(zip);
        for (const char* f : {"adapter_config.json", "adapter_model.safetensors", "training_args.yaml", "training_loss.svg", "README.md"})
            QVERIFY2(entries.contains(f), f);
        QVERIFY2(exp->importAdapter(zip, tmp.path() + "/imported"), qPrintable(exp->resultText()));
        QVERIFY(QFile::exists(tmp.path() + "/imported/adapter_model.safetensors"));
        QCOMPARE(w.modelBar()->adapterDir(), tmp.path() + "/imported");
        QVERIFY(!exp->importAdapter(zip, tmp.path() + "/imported"));  // an existing folder is never overwritten
        QVERIFY(exp->resultText().contains("not empty"));
        const QString notAdapter = tmp.path() + "/not-adapter.zip";
        QVERIFY(JlCompress::compressFiles(notAdapter, {tmp.path() + "/args.yaml"}));
        QVERIFY(!exp->importAdapter(notAdapter, tmp.path() + "/imported2"));
        QVERIFY(exp->resultText().contains("adapter_config.json"));
        QVERIFY(!QDir(tmp.path() + "/imported2").exists());
    }

    // The CSV wizard from the Evaluate & Predict tab: a real CSV, a prompt from its columns, the
    // demo model; stopped midway, then resumed to one prediction per row.
    // Closing the window while training asks; "Keep training" keeps the window and the run,
    // "Stop & save" saves the adapter and then closes.
    void closingWhileTrainingAsks() {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        MainWindow w;
        showOnDemo(w, tmp.path());
        auto* train = w.trainPage();
        train->epochsBox()->setValue(400);
        const QString out = train->outputDir();
        QSignalSpy done(train, &TrainPage::trainingFinished);
        QTest::mouseClick(train->startButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(train->lossPoints() >= 1, 60000);
        answerQuestionsForTests(1);  // Keep training
        QVERIFY(!w.close());
        QVERIFY(w.isVisible());
        QVERIFY(train->isRunning());
        QCOMPARE(questionsAskedForTests().size(), 1);
        answerQuestionsForTests(0);  // Stop & save, then close
        QVERIFY(!w.close());         // not yet: the adapter is being saved
        QVERIFY(done.wait(60000));
        QVERIFY(done.first().at(0).toBool());
        QTRY_VERIFY_WITH_TIMEOUT(!w.isVisible(), 10000);
        QVERIFY(QFile::exists(out + "/adapter_model.safetensors"));
        answerQuestionsForTests(std::nullopt);
    }

    // A laptop screen (issue 16 item 15): every tab fits 1024×700 in both languages, Start and
    // Write stay on screen, and a long one-line error never widens the window.
    void fitsALaptopScreen() {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        MainWindow w;
        showOnDemo(w, tmp.path());
        // switching the language keeps a true status line (it used to become "Ready")
        const QString status = w.statusBar()->currentMessage();
        QVERIFY2(status.startsWith("Demo:"), qPrintable(status));
        w.setLanguage("zh_CN");
        QCOMPARE(w.statusBar()->currentMessage(), status);
        for (const char* lang : {"en", "zh_CN"}) {
            w.setLanguage(lang);
            for (int i = 0; i < w.tabs()->count(); ++i) {
                w.tabs()->setCurrentIndex(i);
                QApplication::processEvents();
                const QSize min = w.minimumSizeHint();
                QVERIFY2(min.width() <= 1024 && min.height() <= 700,
                         qPrintable(QString("%1 tab %2: minimum %3×%4").arg(lang).arg(i).arg(min.width()).arg(min.height())));
            }
        }
        w.setLanguage("en");
        w.resize(1024, 700);
        QApplication::processEvents();
        QCOMPARE(w.width(), 1024);
        auto onScreen = [&](QWidget* b) {
            const QRect r(b->mapTo(&w, QPoint(0, 0)), b->size());
            return b->isVisibleTo(&w) && QRect(0, 0, w.width(), w.height()).contains(r);
        };
        w.tabs()->setCurrentWidget(w.trainPage());
        QApplication::processEvents();
        QVERIFY(onScreen(w.trainPage()->startButton()));
        w.tabs()->setCurrentWidget(w.datasetsPage());
        QApplication::processEvents();
        QVERIFY(onScreen(w.datasetsPage()->writeButton()));
        // a long one-line error in the top bar and on the pages
        w.modelBar()->setModelDir(tmp.path() + "/" + QString("no_such_model_").repeated(60));
        w.datasetsPage()->openFile(tmp.path() + "/" + QString("missing_").repeated(200) + ".csv");
        QApplication::processEvents();
        QVERIFY2(w.minimumSizeHint().width() <= 1024, qPrintable(QString::number(w.minimumSizeHint().width())));
        QCOMPARE(w.width(), 1024);
    }

    // Every result and error reaches the page that asked: a failed training is the Train tab's,
    // never a Chat error; a chat sent while the engine trains says it waits, and is answered
    // once the run stops.
    void resultsReachThePageThatAsked() {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        MainWindow w;
        auto* chat = w.chatPage();
        QSignalSpy loaded(chat, &ChatPage::loaded);
        showOnDemo(w, tmp.path());
        QVERIFY(loaded.wait(60000));
        const QString chatStatus = chat->statusText();
        auto* train = w.trainPage();
        QSignalSpy done(train, &TrainPage::trainingFinished);
        train->setOutputDir(tmp.path() + "/model");  // the model folder itself: refused by the engine
        QTest::mouseClick(train->startButton(), Qt::LeftButton);
        QVERIFY(done.wait(60000));
        QVERIFY(!done.first().at(0).toBool());
        QCOMPARE(chat->statusText(), chatStatus);
        // a chat while training waits for the engine
        done.clear();
        train->setOutputDir(tmp.path() + "/run");
        train->epochsBox()->setValue(400);
        QTest::mouseClick(train->startButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(train->lossPoints() >= 1, 60000);
        QSignalSpy replied(chat, &ChatPage::replyFinished);
        chat->send("What is Tunebench?");
        QVERIFY2(chat->statusText().startsWith("Waiting"), qPrintable(chat->statusText()));
        QTest::mouseClick(train->stopButton(), Qt::LeftButton);
        QVERIFY(done.wait(60000));
        QVERIFY(replied.wait(60000));
        QVERIFY(replied.first().first().toString() != "error");  // answered, not failed
    }

    // Invalid numbers cannot be typed into the number fields, and an engine error about a key
    // names the field the user sees.
    void fieldsRefuseBadNumbersAndErrorsNameTheField() {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        MainWindow w;
        showOnDemo(w, tmp.path());
        auto* train = w.trainPage();
        w.tabs()->setCurrentWidget(train);
        QLineEdit* lr = nullptr;
        QLineEdit* targets = nullptr;
        for (auto* e : train->findChildren<QLineEdit*>()) {
            if (e->toolTip().startsWith("learning_rate:")) lr = e;
            if (e->toolTip().startsWith("lora_target:")) targets = e;
        }
        QVERIFY(lr && targets);
        lr->clear();
        QTest::keyClicks(lr, "nan");
        QCOMPARE(lr->text(), QString());
        QTest::keyClicks(lr, "2e-4x");
        QCOMPARE(lr->text(), QString("2e-4"));
        targets->setText("no_such_module");
        QSignalSpy done(train, &TrainPage::trainingFinished);
        QTest::mouseClick(train->startButton(), Qt::LeftButton);
        QVERIFY(done.wait(60000));
        QVERIFY(!done.first().at(0).toBool());
        QVERIFY2(train->logText().contains("(the field “LoRA modules”)"), qPrintable(train->logText()));
    }

    void csvWizardPredictsStopsAndResumes() {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        MainWindow w;
        showOnDemo(w, tmp.path());
        w.modelBar()->setArgument("flash_attn", "sdpa");
        auto* wiz = w.openPredictWizard();
        bool barShown = false;  // the model page says which top-bar settings the run uses
        for (auto* label : wiz->findChildren<QLabel*>()) barShown |= label->text().contains("attention sdpa");
        QVERIFY(barShown);
        const QString shots = QStringLiteral(TB_SCREENSHOT_DIR);
        QDir().mkpath(shots);
        wiz->setCsv(QStringLiteral(TB_SHARED_DIR) + "/datasets/qizhen/drug_indication_eval.csv");
        QVERIFY(wiz->currentPage()->isComplete());
        QVERIFY(wiz->grab().save(shots + "/wizard-0-csv.png"));
        wiz->next();
        wiz->setPromptTemplate("{instruction}");
        QVERIFY(wiz->promptPreview().contains("地屈孕酮片的适应病症"));
        QVERIFY(wiz->currentPage()->isComplete());
        QVERIFY(wiz->grab().save(shots + "/wizard-1-prompt.png"));
        wiz->setPromptTemplate("{no_such_column}");
        QVERIFY(!wiz->currentPage()->isComplete());  // a wrong column blocks Next, with the reason shown
        wiz->setPromptTemplate("{instruction}");
        wiz->next();
        const QString out = tmp.path() + "/predictions.csv";
        wiz->setOutput(out);
        wiz->setMaxNewTokens(24);
        QVERIFY(wiz->currentPage()->isComplete());
        QVERIFY(wiz->grab().save(shots + "/wizard-2-model.png"));
        wiz->next();

        QSignalSpy finished(wiz, &PredictWizard::runFinished);
        bool stopped = false;
        connect(w.engine()->worker(), &EngineWorker::predictProgress, wiz, [&](qint64 done, qint64 total) {
            if (!stopped && done < total) {
                stopped = true;
                wiz->stopRun();
            }
        });
        wiz->startRun();
        QVERIFY(finished.wait(120000));
        QCOMPARE(finished.first().first().toBool(), false);  // stopped
        QVERIFY(!wiz->currentPage()->isComplete());
        QVERIFY(wiz->grab().save(shots + "/wizard-3-stopped.png"));
        finished.clear();
        wiz->startRun();  // resumes
        QVERIFY(finished.wait(120000));
        QCOMPARE(finished.first().first().toBool(), true);
        QVERIFY(wiz->currentPage()->isComplete());
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(f.readAll());
        QVERIFY(text.startsWith("药品,药品适应症,医学专家标注的适应病症,instruction,prediction"));
        QVERIFY(wiz->summaryText().contains("94 rows"));
        QVERIFY(wiz->summaryText().contains("already there"));
        wiz->next();
        QVERIFY(wiz->grab().save(shots + "/wizard-4-summary.png"));
    }
    // Evaluate & Predict on the demo dataset: predictions written, BLEU / ROUGE shown, the worst
    // samples listed in the table.
    void evaluateOnTheDemo() {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        MainWindow w;
        showOnDemo(w, tmp.path());
        auto* eval = w.evaluatePage();
        w.tabs()->setCurrentWidget(eval);
        eval->setMaxSamples(4);
        QSignalSpy done(eval, &EvaluatePage::evaluationFinished);
        eval->start();
        QVERIFY(done.wait(120000));
        QVERIFY2(done.first().first().toBool(), qPrintable(eval->resultText()));
        QVERIFY2(eval->resultText().contains("ROUGE-L"), qPrintable(eval->resultText()));
        QVERIFY2(eval->resultText().contains("jieba words"), qPrintable(eval->resultText()));  // as LLaMA-Factory
        QVERIFY(eval->resultText().contains("By characters"));
        QCOMPARE(eval->worstTable()->rowCount(), 4);
        QFile f(tmp.path() + "/eval/generated_predictions.jsonl");
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll().count('\n'), 4);
        const QString shots = QStringLiteral(TB_SCREENSHOT_DIR);
        QDir().mkpath(shots);
        QVERIFY(w.grab().save(shots + "/evaluate-finished.png"));
    }

    // Analyze: the demo model and a LoRA adapter trained on it — the adapter's update ΔW in the
    // table, the spectrum chart (a line per matrix), the rank chart and a histogram; the JSON and
    // SVG plots written to the output folder.
    void analyzeTheDemoAndAnAdapter() {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        MainWindow w;
        showOnDemo(w, tmp.path());
        auto args = tb::TrainingArgs::from_map(tb::read_yaml_args((tmp.path() + "/train_lora.yaml").toStdString()));
        args.output_dir = (tmp.path() + "/lora").toStdString();
        args.max_steps = 3;
        tb::run_training(args);
        w.modelBar()->setAdapterDir(tmp.path() + "/lora");
        auto* page = w.analyzePage();
        w.tabs()->setCurrentWidget(page);
        page->setOutputDir(tmp.path() + "/analysis");
        page->setIncludeAdapter(true);
        QSignalSpy done(page, &AnalyzePage::analysisFinished);
        page->start();
        QVERIFY(done.wait(120000));
        QVERIFY2(done.first().first().toBool(), qPrintable(page->resultText()));
        QFile f(tmp.path() + "/analysis/weight_analysis.json");
        QVERIFY(f.open(QIODevice::ReadOnly));
        const auto matrices = QJsonDocument::fromJson(f.readAll()).object()["matrices"].toArray();
        int updates = 0;
        for (const auto& m : matrices) updates += m.toObject()["adapter_update"].toBool();
        QVERIFY(updates > 0 && updates < matrices.size());
        QCOMPARE(page->table()->rowCount(), updates);  // the adapter's updates are shown first
        QCOMPARE(page->spectrumSeries(), updates);
        QVERIFY(page->rankSeries() > 0);
        QCOMPARE(page->histogramBins(), 64);
        QVERIFY(QFile::exists(tmp.path() + "/analysis/adapter_spectrum.svg"));
        QVERIFY(QFile::exists(tmp.path() + "/analysis/rank_by_layer.svg"));
        const QString shots = QStringLiteral(TB_SCREENSHOT_DIR);
        QDir().mkpath(shots);
        QTest::qWait(200);  // the charts lay out their axes and titles on the next turns of the event loop
        QVERIFY(w.grab().save(shots + "/analyze-finished.png"));
    }

    // Datasets: a JSONL from ../shared inside a zip → rows, auto-mapped columns, the rendered
    // prompt with trained and masked tokens, then the written file and its registration, which
    // the Train tab lists.
    void datasetsImportFromZip() {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        MainWindow w;
        showOnDemo(w, tmp.path());
        const QString zip = tmp.path() + "/adgen.zip";
        QVERIFY(JlCompress::compressFiles(zip, {QStringLiteral(TB_SHARED_DIR) + "/datasets/adgen/dev.jsonl"}));
        auto* ds = w.datasetsPage();
        w.tabs()->setCurrentWidget(ds);
        ds->openFile(zip);
        QCOMPARE(ds->rowCount(), 1070);
        QVERIFY2(ds->infoText().startsWith("1070 rows, 2 columns"), qPrintable(ds->infoText()));
        // the tokenizer loads off the GUI thread; the preview is drawn when it is ready
        QTRY_VERIFY2_WITH_TIMEOUT(ds->renderedText().contains("类型#上衣*材质#牛仔布"), qPrintable(ds->renderedText()), 10000);
        QVERIFY2(ds->tokenText().contains("template chatglm3"), qPrintable(ds->tokenText()));
        QVERIFY(ds->tokenText().contains("trained"));
        ds->setMapping("{no_such_column}", "", "{output}");
        QVERIFY2(ds->tokenText().contains("no_such_column"), qPrintable(ds->tokenText()));
        ds->setMapping("写一段广告：{instruction}", "", "{output}");
        QVERIFY(ds->renderedText().contains("写一段广告："));
        const QString shots = QStringLiteral(TB_SCREENSHOT_DIR);
        QDir().mkpath(shots);
        QVERIFY(w.grab().save(shots + "/datasets-preview.png"));
        ds->setTarget(tmp.path() + "/data", "adgen_ads");
        QVERIFY2(ds->writeDataset(), qPrintable(ds->resultText()));
        QVERIFY(QFile::exists(tmp.path() + "/data/adgen_ads.json"));
        QFile info(tmp.path() + "/data/dataset_info.json");
        QVERIFY(info.open(QIODevice::ReadOnly));
        const QByteArray infoText = info.readAll();
        QVERIFY(infoText.contains("adgen_ads") && infoText.contains("tunebench_demo"));
        const auto datasetBox = w.trainPage()->findChildren<QComboBox*>();
        bool listed = false;
        for (auto* c : datasetBox) listed = listed || c->findText("adgen_ads") >= 0;
        QVERIFY(listed);
        // Write again under the same name with another mapping: asked first; No keeps the dataset
        QFile written(tmp.path() + "/data/adgen_ads.json");
        QVERIFY(written.open(QIODevice::ReadOnly));
        const QByteArray before = written.readAll();
        written.close();
        ds->setMapping("另一个指令：{instruction}", "", "{output}");
        answerQuestionsForTests(0);
        QVERIFY(!ds->writeDataset());
        QCOMPARE(questionsAskedForTests().size(), 1);
        QVERIFY(written.open(QIODevice::ReadOnly));
        QCOMPARE(written.readAll(), before);
        written.close();
        answerQuestionsForTests(1);  // Yes replaces it
        QVERIFY2(ds->writeDataset(), qPrintable(ds->resultText()));
        QVERIFY(written.open(QIODevice::ReadOnly));
        QVERIFY(written.readAll().contains("另一个指令"));
        answerQuestionsForTests(std::nullopt);
    }
};

QTEST_MAIN(MainWindowTest)
#include "test_main_window.moc"
