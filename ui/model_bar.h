// The top bar, shared by every tab (LlamaBoard's top section): language, model folder with its
// detected architecture / size / template, fine-tuning type, adapter or checkpoint, quantization,
// template, attention kernel, and the device with a live memory indicator.
#pragma once

#include <QVariantMap>
#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QTimer;

namespace tb::ui {

class UiTexts;

class ModelBar : public QWidget {
    Q_OBJECT
public:
    explicit ModelBar(QWidget* parent = nullptr);

    QString modelDir() const;
    void setModelDir(const QString& dir);
    QString modelInfo() const;  // the detection result shown next to the folder
    QString finetuningType() const;
    // The chosen adapter folder; empty for the base model alone.
    QString adapterDir() const;
    // Lists the adapters of a run folder (final and checkpoint-N) and selects `select` (or the
    // final adapter). Called after a training run with its output folder.
    void addRunFolder(const QString& dir, const QString& select = QString());
    void setAdapterDir(const QString& dir);
    QString quantizationBit() const;  // "" (none), "8" or "4"
    QString templateName() const;     // "" = detect
    void setTemplateName(const QString& name);
    QString attention() const;        // flash_attn: auto, sdpa, fa2, disabled
    QString device() const;           // auto, cpu, cuda:N; cuda when training on all GPUs
    int processes() const;            // nproc_per_node: the GPU count for "cuda × N", else 1
    // The keys chat, evaluate and batch prediction load a model with: model_name_or_path,
    // adapter_name_or_path, template, device, quantization_bit, flash_attn ("" = default).
    QVariantMap inferenceArguments() const;
    // Sets the control of a training / inference key: model_name_or_path, adapter_name_or_path,
    // template, finetuning_type, quantization_bit, flash_attn, device, nproc_per_node.
    void setArgument(const QString& key, const QString& value);
    QComboBox* languageBox() const { return m_language; }
    QString memoryText() const;

Q_SIGNALS:
    void modelChanged(const QString& dir);
    void adapterChanged(const QString& dir);

private:
    void detectModel();
    void refreshMemory();

    UiTexts* m_texts;
    QComboBox* m_language;
    QLineEdit* m_model;
    QLabel* m_info;
    QComboBox* m_finetuning;
    QComboBox* m_adapter;
    QComboBox* m_quant;
    QComboBox* m_template;
    QComboBox* m_attention;
    QComboBox* m_device;
    QLabel* m_memory;
    QProgressBar* m_memoryBar;
    QTimer* m_memoryTimer;
};

}  // namespace tb::ui
