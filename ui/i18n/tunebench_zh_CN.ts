<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ErrorText</name>
    <message>
        <source>an unexpected error inside a library; the work so far is kept. Please report it with the steps that led here</source>
        <translation>库内部出现意外错误；已完成的工作都已保留。请连同出错前的操作步骤一起报告</translation>
    </message>
    <message>
        <source>an unexpected error</source>
        <translation>意外错误</translation>
    </message>
    <message>
        <source>the work so far is kept; please report the steps that led here</source>
        <translation>已完成的工作都已保留；请报告出错前的操作步骤</translation>
    </message>
</context>
<context>
    <name>QObject</name>
    <message>
        <source>%1 has no %2: choose a final adapter or a checkpoint-N folder</source>
        <translation>%1 中没有 %2：请选择最终适配器或 checkpoint-N 文件夹</translation>
    </message>
    <message>
        <source>could not write %1: check that the folder is writable and has space</source>
        <translation>无法写入 %1：请检查文件夹是否可写、磁盘空间是否足够</translation>
    </message>
    <message>
        <source>could not rename %1 to %2</source>
        <translation>无法将 %1 重命名为 %2</translation>
    </message>
    <message>
        <source>%1 files written to %2</source>
        <translation>已将 %1 个文件写入 %2</translation>
    </message>
    <message>
        <source>%1 is not a readable .zip file</source>
        <translation>%1 不是可读取的 .zip 文件</translation>
    </message>
    <message>
        <source>%1 has no %2 at its top level: not an adapter zip (Export tab → Share adapter writes one)</source>
        <translation>%1 顶层没有 %2：不是适配器压缩包（可在“导出”页 →“分享适配器”生成）</translation>
    </message>
    <message>
        <source>%1 already exists and is not empty: choose a new folder</source>
        <translation>%1 已存在且不为空：请选择一个新文件夹</translation>
    </message>
    <message>
        <source>adapter imported into %1 (%2 files)</source>
        <translation>适配器已导入到 %1（%2 个文件）</translation>
    </message>
    <message>
        <source>The demo could not be written to %1: %2</source>
        <translation>无法将演示写入 %1：%2</translation>
    </message>
    <message>
        <source>could not create %1: check that it is writable</source>
        <translation>无法创建 %1：请检查它是否可写</translation>
    </message>
    <message>
        <source>could not create a folder in %1: %2</source>
        <translation>无法在 %1 中创建文件夹：%2</translation>
    </message>
    <message>
        <source>an entry without a name</source>
        <translation>一个没有名称的条目</translation>
    </message>
    <message>
        <source>a name with \ or : (&apos;%1&apos;)</source>
        <translation>含有 \ 或 : 的名称（&apos;%1&apos;）</translation>
    </message>
    <message>
        <source>an absolute path (&apos;%1&apos;)</source>
        <translation>绝对路径（&apos;%1&apos;）</translation>
    </message>
    <message>
        <source>a path with &apos;%1&apos; (&apos;%2&apos;)</source>
        <translation>含有 &apos;%1&apos; 的路径（&apos;%2&apos;）</translation>
    </message>
    <message>
        <source>a path that leaves the folder (&apos;%1&apos;)</source>
        <translation>会离开目标文件夹的路径（&apos;%1&apos;）</translation>
    </message>
    <message>
        <source>%1 cannot be read: %2</source>
        <translation>无法读取 %1：%2</translation>
    </message>
    <message>
        <source>%1 is damaged: its list of files cannot be read</source>
        <translation>%1 已损坏：无法读取其文件列表</translation>
    </message>
    <message>
        <source>%1 holds %2 entries, more than the %3 accepted: refused</source>
        <translation>%1 含有 %2 个条目，超过允许的 %3 个：已拒绝</translation>
    </message>
    <message>
        <source>%1 holds a symbolic link (&apos;%2&apos;): refused, a shared adapter or dataset has none</source>
        <translation>%1 含有符号链接（&apos;%2&apos;）：已拒绝，共享的适配器或数据集不会含有链接</translation>
    </message>
    <message>
        <source>%1 holds a device or special file (&apos;%2&apos;): refused</source>
        <translation>%1 含有设备文件或特殊文件（&apos;%2&apos;）：已拒绝</translation>
    </message>
    <message>
        <source>%1 holds %2, which would leave the target folder: refused</source>
        <translation>%1 含有%2，会写到目标文件夹之外：已拒绝</translation>
    </message>
    <message>
        <source>%1 holds &apos;%2&apos; twice: refused (which one is meant?)</source>
        <translation>%1 含有两个 &apos;%2&apos;：已拒绝（无法确定用哪一个）</translation>
    </message>
    <message>
        <source>%1 would unpack to more than %2 MB: refused</source>
        <translation>%1 解压后将超过 %2 MB：已拒绝</translation>
    </message>
    <message>
        <source>%1 holds &apos;%2&apos; both as a file and as a folder: refused</source>
        <translation>%1 中 &apos;%2&apos; 既是文件又是文件夹：已拒绝</translation>
    </message>
    <message>
        <source>could not create %1: check that its parent is writable</source>
        <translation>无法创建 %1：请检查其上级文件夹是否可写</translation>
    </message>
    <message>
        <source>%1 needs %2 MB but %3 has %4 MB free</source>
        <translation>%1 需要 %2 MB，但 %3 只剩 %4 MB 可用空间</translation>
    </message>
    <message>
        <source>could not create the folder for %1</source>
        <translation>无法为 %1 创建文件夹</translation>
    </message>
    <message>
        <source>could not create %1: %2</source>
        <translation>无法创建 %1：%2</translation>
    </message>
    <message>
        <source>%1 is damaged: &apos;%2&apos; cannot be found</source>
        <translation>%1 已损坏：找不到 &apos;%2&apos;</translation>
    </message>
    <message>
        <source>%1 is damaged or encrypted: &apos;%2&apos; cannot be read</source>
        <translation>%1 已损坏或已加密：无法读取 &apos;%2&apos;</translation>
    </message>
    <message>
        <source>%1 is damaged: &apos;%2&apos; cannot be inflated</source>
        <translation>%1 已损坏：无法解压 &apos;%2&apos;</translation>
    </message>
    <message>
        <source>%1 is damaged or crafted: &apos;%2&apos; holds more than the %3 bytes it declares</source>
        <translation>%1 已损坏或被篡改：&apos;%2&apos; 的内容超过其声明的 %3 字节</translation>
    </message>
    <message>
        <source>could not write %1: %2 (disk full?)</source>
        <translation>无法写入 %1：%2（磁盘已满？）</translation>
    </message>
    <message>
        <source>%1 is damaged: &apos;%2&apos; fails its checksum or is shorter than declared</source>
        <translation>%1 已损坏：&apos;%2&apos; 校验失败或比声明的短</translation>
    </message>
</context>
<context>
    <name>TablePreview</name>
    <message>
        <source>%1 rows, %2 columns, encoding %3</source>
        <translation>%1 行，%2 列，编码 %3</translation>
    </message>
    <message>
        <source>⚠ %1
%2</source>
        <translation>⚠ %1
%2</translation>
    </message>
</context>
<context>
    <name>tb::ui::AnalyzePage</name>
    <message>
        <source>weight_analysis.json and the SVG plots are written here (an earlier analysis there is replaced)</source>
        <translation>weight_analysis.json 和 SVG 图写到这里（会替换此处先前的分析）</translation>
    </message>
    <message>
        <source>also the adapter chosen in the top bar (its update ΔW = s·B·A)</source>
        <translation>同时分析顶栏所选的适配器（其更新量 ΔW = s·B·A）</translation>
    </message>
    <message>
        <source>Weights: statistics, singular spectra and effective rank</source>
        <translation>权重：统计量、奇异值谱与有效秩</translation>
    </message>
    <message>
        <source>Output folder</source>
        <translation>输出文件夹</translation>
    </message>
    <message>
        <source>Adapter</source>
        <translation>适配器</translation>
    </message>
    <message>
        <source>Analyze</source>
        <translation>分析</translation>
    </message>
    <message>
        <source>Base weights</source>
        <translation>基座权重</translation>
    </message>
    <message>
        <source>Adapter update ΔW</source>
        <translation>适配器更新量 ΔW</translation>
    </message>
    <message>
        <source>Singular values</source>
        <translation>奇异值</translation>
    </message>
    <message>
        <source>Rank by layer</source>
        <translation>各层的秩</translation>
    </message>
    <message>
        <source>Histogram</source>
        <translation>直方图</translation>
    </message>
    <message>
        <source>Matrix</source>
        <translation>矩阵</translation>
    </message>
    <message>
        <source>Shape</source>
        <translation>形状</translation>
    </message>
    <message>
        <source>Mean</source>
        <translation>均值</translation>
    </message>
    <message>
        <source>Std</source>
        <translation>标准差</translation>
    </message>
    <message>
        <source>Effective rank</source>
        <translation>有效秩</translation>
    </message>
    <message>
        <source>Stable rank</source>
        <translation>稳定秩</translation>
    </message>
    <message>
        <source>Spectrum</source>
        <translation>谱</translation>
    </message>
    <message>
        <source>%1 matrices analysed.</source>
        <translation>已分析 %1 个矩阵。</translation>
    </message>
    <message>
        <source> Written to %1 (weight_analysis.json, spectrum.svg, rank_by_layer.svg).</source>
        <translation> 已写入 %1（weight_analysis.json、spectrum.svg、rank_by_layer.svg）。</translation>
    </message>
    <message>
        <source>Error: %1</source>
        <translation>错误：%1</translation>
    </message>
    <message>
        <source>
Hint: %1</source>
        <translation>
提示：%1</translation>
    </message>
    <message>
        <source>Choose a model in the top bar first.</source>
        <translation>请先在顶栏选择模型。</translation>
    </message>
    <message>
        <source>Analysing %1 …</source>
        <translation>正在分析 %1 …</translation>
    </message>
    <message>
        <source>index i</source>
        <translation>序号 i</translation>
    </message>
    <message>
        <source>σᵢ / σ₁</source>
        <translation>σᵢ / σ₁</translation>
    </message>
    <message>
        <source>Adapter update ΔW: singular values</source>
        <translation>适配器更新量 ΔW：奇异值</translation>
    </message>
    <message>
        <source>Weights: singular values</source>
        <translation>权重：奇异值</translation>
    </message>
    <message>
        <source>Effective rank exp(H(σ/Σσ)) by layer</source>
        <translation>各层有效秩 exp(H(σ/Σσ))</translation>
    </message>
    <message>
        <source>Stable rank ‖W‖²/σ₁² by layer (randomized spectra)</source>
        <translation>各层稳定秩 ‖W‖²/σ₁²（随机化谱）</translation>
    </message>
    <message>
        <source>exact</source>
        <translation>精确</translation>
    </message>
    <message>
        <source>top %1, ± %2</source>
        <translation>前 %1 个，± %2</translation>
    </message>
    <message>
        <source>%1: values</source>
        <translation>%1：数值分布</translation>
    </message>
</context>
<context>
    <name>tb::ui::ChatPage</name>
    <message>
        <source>Load model</source>
        <translation>加载模型</translation>
    </message>
    <message>
        <source>Loads the top bar&apos;s model, with its adapter when one is chosen</source>
        <translation>加载顶栏所选模型；若选了适配器则一并加载</translation>
    </message>
    <message>
        <source>optional system prompt (applies when the model is loaded)</source>
        <translation>可选的系统提示词（加载模型时生效）</translation>
    </message>
    <message>
        <source>0 = greedy decoding</source>
        <translation>0 = 贪心解码</translation>
    </message>
    <message>
        <source>Compare with the base model</source>
        <translation>与基座模型对比</translation>
    </message>
    <message>
        <source>Each message is also answered by the base model without the adapter (loads the base a second time)</source>
        <translation>每条消息同时由不带适配器的基座模型回答（会再加载一份基座模型）</translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation>温度</translation>
    </message>
    <message>
        <source>Top-p</source>
        <translation>Top-p</translation>
    </message>
    <message>
        <source>Max new tokens</source>
        <translation>最大生成长度</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>System</source>
        <translation>系统提示</translation>
    </message>
    <message>
        <source>With the adapter (or the model alone)</source>
        <translation>带适配器（或仅模型）</translation>
    </message>
    <message>
        <source>Base model, without the adapter</source>
        <translation>基座模型（不带适配器）</translation>
    </message>
    <message>
        <source>Type a message and press Enter</source>
        <translation>输入消息后按回车</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Clear history</source>
        <translation>清空历史</translation>
    </message>
    <message>
        <source>No model loaded.</source>
        <translation>尚未加载模型。</translation>
    </message>
    <message>
        <source>Loaded: %1</source>
        <translation>已加载：%1</translation>
    </message>
    <message>
        <source>Thinking…</source>
        <translation>思考中…</translation>
    </message>
    <message>
        <source>Thought</source>
        <translation>思考过程</translation>
    </message>
    <message>
        <source>%1 tokens, %2 tokens/s (%3)</source>
        <translation>%1 个词元，%2 词元/秒（%3）</translation>
    </message>
    <message>
        <source>Error: %1</source>
        <translation>错误：%1</translation>
    </message>
    <message>
        <source>Error: %1 — %2</source>
        <translation>错误：%1 — %2</translation>
    </message>
    <message>
        <source>Loading %1 …</source>
        <translation>正在加载 %1 …</translation>
    </message>
    <message>
        <source>User: %1</source>
        <translation>用户：%1</translation>
    </message>
    <message>
        <source>Assistant: </source>
        <translation>助手：</translation>
    </message>
    <message>
        <source>Waiting: the engine is training (Train tab); this message is answered when the run ends or is stopped.</source>
        <translation>等待中：引擎正在训练（“训练”页）；训练结束或停止后将回答这条消息。</translation>
    </message>
    <message>
        <source>Enable thinking</source>
        <translation>启用思考</translation>
    </message>
    <message>
        <source>Reasoning models (qwen3 template): off puts an empty thought in the prompt so the model answers directly (applies when the model is loaded)</source>
        <translation>推理模型（qwen3 模板）：关闭时在提示词中放入空的思考，模型直接作答（加载模型时生效）</translation>
    </message>
</context>
<context>
    <name>tb::ui::DatasetsPage</name>
    <message>
        <source>a .csv, .json or .jsonl file, or a .zip holding one</source>
        <translation>.csv、.json 或 .jsonl 文件，或包含它们的 .zip</translation>
    </message>
    <message>
        <source>Open…</source>
        <translation>打开…</translation>
    </message>
    <message>
        <source>the data file inside the zip</source>
        <translation>压缩包中的数据文件</translation>
    </message>
    <message>
        <source>what the model is asked: a column as {column}, or text with {column} placeholders</source>
        <translation>向模型提出的问题：用 {column} 引用某列，或在文字中使用 {column} 占位符</translation>
    </message>
    <message>
        <source>the answer the model learns</source>
        <translation>模型要学习的回答</translation>
    </message>
    <message>
        <source>cutoff_len, as in training: longer examples are truncated</source>
        <translation>cutoff_len，与训练相同：更长的样本会被截断</translation>
    </message>
    <message>
        <source>dataset_dir: the converted file goes here and is registered in its dataset_info.json</source>
        <translation>dataset_dir：转换后的文件写入此处，并登记到其中的 dataset_info.json</translation>
    </message>
    <message>
        <source>the dataset&apos;s name in dataset_info.json (an existing entry is replaced)</source>
        <translation>数据集在 dataset_info.json 中的名称（同名条目会被替换）</translation>
    </message>
    <message>
        <source>Write dataset</source>
        <translation>写入数据集</translation>
    </message>
    <message>
        <source>Columns → training example</source>
        <translation>列 → 训练样本</translation>
    </message>
    <message>
        <source>Instruction</source>
        <translation>指令</translation>
    </message>
    <message>
        <source>Input</source>
        <translation>输入</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>输出</translation>
    </message>
    <message>
        <source>System</source>
        <translation>系统提示</translation>
    </message>
    <message>
        <source>Cutoff length</source>
        <translation>截断长度</translation>
    </message>
    <message>
        <source>Preview row</source>
        <translation>预览行</translation>
    </message>
    <message>
        <source>Write</source>
        <translation>写入</translation>
    </message>
    <message>
        <source>Dataset folder</source>
        <translation>数据集目录</translation>
    </message>
    <message>
        <source>Dataset name</source>
        <translation>数据集名称</translation>
    </message>
    <message>
        <source>Format</source>
        <translation>格式</translation>
    </message>
    <message>
        <source>As the model sees it (green: trained tokens, grey: masked):</source>
        <translation>模型看到的内容（绿色：参与训练的词元，灰色：被遮蔽）：</translation>
    </message>
    <message>
        <source>Open data</source>
        <translation>打开数据</translation>
    </message>
    <message>
        <source>Data files (*.csv *.json *.jsonl *.zip);;All files (*)</source>
        <translation>数据文件 (*.csv *.json *.jsonl *.zip);;所有文件 (*)</translation>
    </message>
    <message>
        <source>⚠ %1 holds no .csv, .json or .jsonl file</source>
        <translation>⚠ %1 中没有 .csv、.json 或 .jsonl 文件</translation>
    </message>
    <message>
        <source>⚠ %1
%2</source>
        <translation>⚠ %1
%2</translation>
    </message>
    <message>
        <source>row %1</source>
        <translation>第 %1 行</translation>
    </message>
    <message>
        <source>⚠ this row would be skipped in training: %1</source>
        <translation>⚠ 训练时会跳过这一行：%1</translation>
    </message>
    <message>
        <source>Choose a model in the top bar to see the tokens.</source>
        <translation>在顶栏选择模型后即可查看词元。</translation>
    </message>
    <message>
        <source>%1 tokens under template %2: %3 trained, %4 masked (cutoff %5)</source>
        <translation>模板 %2 下共 %1 个词元：%3 个参与训练，%4 个被遮蔽（截断长度 %5）</translation>
    </message>
    <message>
        <source>⚠ %1 (%2)</source>
        <translation>⚠ %1（%2）</translation>
    </message>
    <message>
        <source>⚠ open a file and name the dataset and its folder first</source>
        <translation>⚠ 请先打开文件，并填写数据集名称和目录</translation>
    </message>
    <message>
        <source>%1 examples written to %2 and registered as &apos;%3&apos;%4</source>
        <translation>已将 %1 条样本写入 %2，并登记为“%3”%4</translation>
    </message>
    <message>
        <source> (%1 with an empty output are skipped in training)</source>
        <translation>（其中 %1 条输出为空，训练时会跳过）</translation>
    </message>
    <message>
        <source>⚠ %1</source>
        <translation>⚠ %1</translation>
    </message>
    <message>
        <source>Loading the tokenizer of %1 …</source>
        <translation>正在加载 %1 的分词器…</translation>
    </message>
    <message>
        <source>Replace the dataset?</source>
        <translation>替换数据集？</translation>
    </message>
    <message>
        <source>A dataset named &apos;%1&apos; already exists in %2. Replace it with this one?</source>
        <translation>%2 中已有名为 &apos;%1&apos; 的数据集。要用这个替换它吗？</translation>
    </message>
    <message>
        <source>Nothing written: &apos;%1&apos; is kept as it was. Choose another name to keep both.</source>
        <translation>未写入任何内容：&apos;%1&apos; 保持原样。换一个名称即可同时保留两者。</translation>
    </message>
</context>
<context>
    <name>tb::ui::EngineWorker</name>
    <message>
        <source> + adapter %1</source>
        <translation> + 适配器 %1</translation>
    </message>
    <message>
        <source>No model is loaded.</source>
        <translation>尚未加载模型。</translation>
    </message>
    <message>
        <source>Choose a model folder and click Load.</source>
        <translation>请选择模型文件夹并点击“加载模型”。</translation>
    </message>
    <message>
        <source>%1 steps, train loss %2, saved to %3</source>
        <translation>%1 步，训练损失 %2，已保存到 %3</translation>
    </message>
    <message>
        <source>checking the export against base + adapter…</source>
        <translation>正在将导出结果与基座 + 适配器对比校验…</translation>
    </message>
    <message>
        <source>%1 MB in %2 shard(s), %3, %4 adapter modules merged</source>
        <translation>%1 MB，%2 个分片，%3，合并了 %4 个适配器模块</translation>
    </message>
    <message>
        <source>reloaded; logits on %1 prompts differ from base + adapter by at most %2 (tolerance %3)</source>
        <translation>已重新加载；在 %1 个提示上与基座 + 适配器的 logits 最大差异为 %2（容差 %3）</translation>
    </message>
    <message>
        <source>checking the GGUF file against base + adapter…</source>
        <translation>正在将 GGUF 文件与基座 + 适配器对比校验…</translation>
    </message>
    <message>
        <source>%1, %2 tensors, %3 MB, %4 adapter modules merged</source>
        <translation>%1，%2 个张量，%3 MB，合并了 %4 个适配器模块</translation>
    </message>
    <message>
        <source>read back; logits on %1 prompts differ from base + adapter by at most %2 (relative RMS %3, tolerance %4), greedy tokens agree at %5% of positions</source>
        <translation>已读回；在 %1 个提示上与基座 + 适配器的 logits 最大差异为 %2（相对均方根误差 %3，容差 %4），贪心解码的词元在 %5% 的位置上一致</translation>
    </message>
    <message>
        <source>measuring base, base + adapter, merged, int8, NF4 and the export (bench --compare)…</source>
        <translation>正在测量基座、基座 + 适配器、合并、int8、NF4 和导出结果（bench --compare）…</translation>
    </message>
</context>
<context>
    <name>tb::ui::EvaluatePage</name>
    <message>
        <source>dataset_dir: the folder with dataset_info.json</source>
        <translation>dataset_dir：包含 dataset_info.json 的文件夹</translation>
    </message>
    <message>
        <source>eval_dataset: each example&apos;s last reply is the reference; the model answers its prompt and history</source>
        <translation>eval_dataset：以每个样本的最后一轮回答为参考；模型根据提示和历史作答</translation>
    </message>
    <message>
        <source>max_samples: at most this many examples (0 = all)</source>
        <translation>max_samples：最多使用这么多样本（0 = 全部）</translation>
    </message>
    <message>
        <source>0 = greedy decoding: the scores can be reproduced</source>
        <translation>0 = 贪心解码：评分可复现</translation>
    </message>
    <message>
        <source>output_dir: generated_predictions.jsonl and predict_results.json; an earlier run there is resumed</source>
        <translation>output_dir：写入 generated_predictions.jsonl 和 predict_results.json；已有的未完成运行会接着继续</translation>
    </message>
    <message>
        <source>Predict over a dataset and score it</source>
        <translation>在数据集上预测并评分</translation>
    </message>
    <message>
        <source>Dataset folder</source>
        <translation>数据集目录</translation>
    </message>
    <message>
        <source>Dataset</source>
        <translation>数据集</translation>
    </message>
    <message>
        <source>Max samples</source>
        <translation>最大样本数</translation>
    </message>
    <message>
        <source>Max new tokens</source>
        <translation>最大生成长度</translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation>温度</translation>
    </message>
    <message>
        <source>Output folder</source>
        <translation>输出目录</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>开始</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Batch-predict a CSV…</source>
        <translation>批量预测 CSV…</translation>
    </message>
    <message>
        <source>The CSV wizard: every row of a CSV file gets a prediction column</source>
        <translation>CSV 向导：为 CSV 文件的每一行生成一列预测</translation>
    </message>
    <message>
        <source>ROUGE-L</source>
        <translation>ROUGE-L</translation>
    </message>
    <message>
        <source>BLEU-4</source>
        <translation>BLEU-4</translation>
    </message>
    <message>
        <source>Prompt</source>
        <translation>提示</translation>
    </message>
    <message>
        <source>Prediction</source>
        <translation>预测</translation>
    </message>
    <message>
        <source>Reference</source>
        <translation>参考答案</translation>
    </message>
    <message>
        <source>Worst samples (lowest ROUGE-L first):</source>
        <translation>最差样本（按 ROUGE-L 从低到高）：</translation>
    </message>
    <message>
        <source>Example %1 of %2 …</source>
        <translation>第 %1 / %2 个样本 …</translation>
    </message>
    <message>
        <source>Error: %1</source>
        <translation>错误：%1</translation>
    </message>
    <message>
        <source>
Hint: %1</source>
        <translation>
提示：%1</translation>
    </message>
    <message>
        <source>Datasets: %1</source>
        <translation>数据集：%1</translation>
    </message>
    <message>
        <source>Loading %1 …</source>
        <translation>正在加载 %1 …</translation>
    </message>
    <message>
        <source>Stopped after %1 examples; Start resumes from there.</source>
        <translation>已在 %1 个样本后停止；点击“开始”从此处继续。</translation>
    </message>
    <message>
        <source>%1 examples predicted into %2/generated_predictions.jsonl.</source>
        <translation>已预测 %1 个样本，写入 %2/generated_predictions.jsonl。</translation>
    </message>
    <message>
        <source> (%1 were already there from an earlier run.)</source>
        <translation>（其中 %1 个来自之前的运行。）</translation>
    </message>
    <message>
        <source>per_device_eval_batch_size: examples answered together (a new one joins as one finishes); more is faster until the GPU memory is full</source>
        <translation>per_device_eval_batch_size：同时作答的样本数（一个完成即补入下一个）；在显存允许的范围内越大越快</translation>
    </message>
    <message>
        <source>Batch size</source>
        <translation>批大小</translation>
    </message>
    <message>
        <source>Stopping after the current step…</source>
        <translation>当前这一步完成后停止…</translation>
    </message>
    <message>
        <source>
BLEU-4 %1 · ROUGE-1 %2 · ROUGE-2 %3 · ROUGE-L %4 (0–100, as LLaMA-Factory scores: ROUGE over jieba words, BLEU-4 over characters).</source>
        <translation>
BLEU-4 %1 · ROUGE-1 %2 · ROUGE-2 %3 · ROUGE-L %4（0–100，与 LLaMA-Factory 的算法相同：ROUGE 按 jieba 分词计算，BLEU-4 按字计算）。</translation>
    </message>
    <message>
        <source>
BLEU-4 %1 (0–100). ROUGE over jieba words is unavailable: %2</source>
        <translation>
BLEU-4 %1（0–100）。无法按 jieba 分词计算 ROUGE：%2</translation>
    </message>
    <message>
        <source>
By characters (each CJK character one token): ROUGE-1 %1 · ROUGE-2 %2 · ROUGE-L %3.</source>
        <translation>
按字计算（每个汉字算一个词元）：ROUGE-1 %1 · ROUGE-2 %2 · ROUGE-L %3。</translation>
    </message>
</context>
<context>
    <name>tb::ui::ExportPage</name>
    <message>
        <source>export_dir: a new or empty folder (an earlier export there is replaced)</source>
        <translation>export_dir：新建或空的文件夹（其中以前的导出会被替换）</translation>
    </message>
    <message>
        <source>export_size: the largest shard</source>
        <translation>export_size：单个分片的最大大小</translation>
    </message>
    <message>
        <source>export_dtype: auto keeps the base model&apos;s dtype</source>
        <translation>export_dtype：auto 保持基座模型的数据类型</translation>
    </message>
    <message>
        <source>export_device: where the merge is computed</source>
        <translation>export_device：在哪个设备上合并</translation>
    </message>
    <message>
        <source>pytorch_model.bin instead of safetensors</source>
        <translation>使用 pytorch_model.bin 而不是 safetensors</translation>
    </message>
    <message>
        <source>export_legacy_format</source>
        <translation>export_legacy_format</translation>
    </message>
    <message>
        <source>Merge the top bar&apos;s adapter into its base model</source>
        <translation>将顶栏所选适配器合并进基座模型</translation>
    </message>
    <message>
        <source>Model + adapter</source>
        <translation>模型 + 适配器</translation>
    </message>
    <message>
        <source>Export folder</source>
        <translation>导出目录</translation>
    </message>
    <message>
        <source>Format</source>
        <translation>格式</translation>
    </message>
    <message>
        <source>GGUF type</source>
        <translation>GGUF 量化类型</translation>
    </message>
    <message>
        <source>export_format: a Hugging Face folder, or one GGUF file for llama.cpp with an Ollama Modelfile beside it</source>
        <translation>export_format：Hugging Face 模型文件夹，或供 llama.cpp 使用的单个 GGUF 文件（附 Ollama Modelfile）</translation>
    </message>
    <message>
        <source>export_gguf_type: Q4_K_M is the usual choice for llama.cpp / Ollama; Q8_0 nearly lossless</source>
        <translation>export_gguf_type：llama.cpp / Ollama 常用 Q4_K_M；Q8_0 几乎无损</translation>
    </message>
    <message>
        <source>Shard size</source>
        <translation>分片大小</translation>
    </message>
    <message>
        <source>Data type</source>
        <translation>数据类型</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>Share adapter as .zip…</source>
        <translation>将适配器分享为 .zip…</translation>
    </message>
    <message>
        <source>One file with the adapter, its training YAML, the loss plot and a model card</source>
        <translation>一个文件包含适配器、训练 YAML、损失曲线和模型卡</translation>
    </message>
    <message>
        <source>Import adapter .zip…</source>
        <translation>导入适配器 .zip…</translation>
    </message>
    <message>
        <source>Share</source>
        <translation>分享</translation>
    </message>
    <message>
        <source>Share adapter</source>
        <translation>分享适配器</translation>
    </message>
    <message>
        <source>Zip files (*.zip)</source>
        <translation>Zip 文件 (*.zip)</translation>
    </message>
    <message>
        <source>Import adapter</source>
        <translation>导入适配器</translation>
    </message>
    <message>
        <source>New adapter folder</source>
        <translation>新的适配器文件夹</translation>
    </message>
    <message>
        <source>%1 — choose an adapter in the top bar</source>
        <translation>%1 — 请在顶栏选择适配器</translation>
    </message>
    <message>
        <source>%1 + %2</source>
        <translation>%1 + %2</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>Exported and verified: %1.
%2</source>
        <translation>已导出并校验通过：%1。
%2</translation>
    </message>
    <message>
        <source>Exported, but the check FAILED: %1.
%2</source>
        <translation>已导出，但校验失败：%1。
%2</translation>
    </message>
    <message>
        <source>Export failed: %1</source>
        <translation>导出失败：%1</translation>
    </message>
    <message>
        <source>
Hint: %1</source>
        <translation>
提示：%1</translation>
    </message>
    <message>
        <source>Error: %1</source>
        <translation>错误：%1</translation>
    </message>
    <message>
        <source>Exporting %1 + %2 → %3</source>
        <translation>正在导出 %1 + %2 → %3</translation>
    </message>
    <message>
        <source>none (the merged weights)</source>
        <translation>不量化（合并后的权重）</translation>
    </message>
    <message>
        <source>4-bit NF4 (bitsandbytes, for transformers)</source>
        <translation>4 位 NF4（bitsandbytes，供 transformers 使用）</translation>
    </message>
    <message>
        <source>8-bit LLM.int8 (bitsandbytes, for transformers)</source>
        <translation>8 位 LLM.int8（bitsandbytes，供 transformers 使用）</translation>
    </message>
    <message>
        <source>export_quantization_bit: merge, then write the layers&apos; weights as NF4 with double quantization (4-bit) or as int8 rows with their scales (8-bit); transformers + bitsandbytes and Tunebench load it without quantizing again</source>
        <translation>export_quantization_bit：先合并，再把各层权重写成带双重量化的 NF4（4 位）或按行缩放的 int8（8 位）；transformers + bitsandbytes 与 Tunebench 直接加载，无需再次量化</translation>
    </message>
    <message>
        <source>Quantize</source>
        <translation>量化</translation>
    </message>
    <message>
        <source>Then compare speed and memory (base, adapter, merged, int8, NF4, the export)</source>
        <translation>随后比较速度和显存（基座、适配器、合并、int8、NF4、导出结果）</translation>
    </message>
    <message>
        <source>tunebench-cli bench --compare after the export: decode tokens/s and peak memory of each variant, one table in the log (loads the model six times)</source>
        <translation>导出后运行 tunebench-cli bench --compare：每种形式的解码 tokens/s 和峰值显存，日志中一张表（模型会加载六次）</translation>
    </message>
</context>
<context>
    <name>tb::ui::FolderField</name>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
</context>
<context>
    <name>tb::ui::MainWindow</name>
    <message>
        <source>Analyze</source>
        <translation>权重分析</translation>
    </message>
    <message>
        <source>Tunebench</source>
        <translation>Tunebench</translation>
    </message>
    <message>
        <source>Train</source>
        <translation>训练</translation>
    </message>
    <message>
        <source>Evaluate &amp;&amp; Predict</source>
        <translation>评估与预测</translation>
    </message>
    <message>
        <source>Chat</source>
        <translation>对话</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>Datasets</source>
        <translation>数据集</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>就绪</translation>
    </message>
    <message>
        <source>Dataset &apos;%1&apos; is ready to train in %2</source>
        <translation>数据集“%1”已可在 %2 中用于训练</translation>
    </message>
    <message>
        <source>Demo: %1</source>
        <translation>演示：%1</translation>
    </message>
    <message>
        <source>Training is running</source>
        <translation>训练进行中</translation>
    </message>
    <message>
        <source>A training run is in progress. Closing now loses the steps since its last checkpoint.</source>
        <translation>训练正在进行。现在关闭会丢失上一个检查点之后的步骤。</translation>
    </message>
    <message>
        <source>Stop &amp;&amp; save, then close</source>
        <translation>停止并保存，然后关闭</translation>
    </message>
    <message>
        <source>Keep training</source>
        <translation>继续训练</translation>
    </message>
    <message>
        <source>Close without saving</source>
        <translation>不保存直接关闭</translation>
    </message>
    <message>
        <source>Stopping after this step and saving; the window closes when it is written…</source>
        <translation>本步结束后停止并保存；写完后窗口将关闭…</translation>
    </message>
</context>
<context>
    <name>tb::ui::ModelBar</name>
    <message>
        <source>Interface language</source>
        <translation>界面语言</translation>
    </message>
    <message>
        <source>Hugging Face model folder (config.json + weights + tokenizer)</source>
        <translation>Hugging Face 模型文件夹（config.json + 权重 + 分词器）</translation>
    </message>
    <message>
        <source>model_name_or_path: used by every tab</source>
        <translation>model_name_or_path：所有页面共用</translation>
    </message>
    <message>
        <source>finetuning_type: LoRA adapters, AdaLoRA adapters (ranks pruned to where they matter), the last layers, or all weights</source>
        <translation>finetuning_type：LoRA 适配器、AdaLoRA 适配器（秩按重要性裁剪）、仅训练最后几层，或全部权重</translation>
    </message>
    <message>
        <source>(base model only)</source>
        <translation>（仅基座模型）</translation>
    </message>
    <message>
        <source>adapter_name_or_path: a final adapter or a checkpoint-N of a run folder</source>
        <translation>adapter_name_or_path：某次训练的最终适配器或 checkpoint-N</translation>
    </message>
    <message>
        <source>Runs…</source>
        <translation>训练记录…</translation>
    </message>
    <message>
        <source>Choose a run folder (a training output_dir) or a folder of runs</source>
        <translation>选择一次训练的输出目录（output_dir），或包含多次训练的文件夹</translation>
    </message>
    <message>
        <source>none</source>
        <translation>不量化</translation>
    </message>
    <message>
        <source>quantization_bit: QLoRA keeps the base model in 4-bit NF4 or 8-bit</source>
        <translation>quantization_bit：QLoRA 将基座模型保持为 4 位 NF4 或 8 位</translation>
    </message>
    <message>
        <source>auto</source>
        <translation>自动</translation>
    </message>
    <message>
        <source>template: how conversations are rendered; auto detects it from the model</source>
        <translation>template：对话的拼接格式；“自动”根据模型识别</translation>
    </message>
    <message>
        <source>flash_attn: auto/sdpa use fused attention (FlashAttention on CUDA when it applies); disabled = plain math</source>
        <translation>flash_attn：auto/sdpa 使用融合注意力（CUDA 上可用时为 FlashAttention）；disabled = 普通计算</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Fine-tuning</source>
        <translation>微调方法</translation>
    </message>
    <message>
        <source>Adapter</source>
        <translation>适配器</translation>
    </message>
    <message>
        <source>Quantization</source>
        <translation>量化</translation>
    </message>
    <message>
        <source>Template</source>
        <translation>模板</translation>
    </message>
    <message>
        <source>Attention</source>
        <translation>注意力</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>no model folder chosen</source>
        <translation>尚未选择模型文件夹</translation>
    </message>
    <message>
        <source>reading %1 …</source>
        <translation>正在读取 %1 …</translation>
    </message>
    <message>
        <source>%1 · %2 parameters · %3 layers · %4 · template %5</source>
        <translation>%1 · %2 参数 · %3 层 · %4 · 模板 %5</translation>
    </message>
    <message>
        <source>⚠ %1</source>
        <translation>⚠ %1</translation>
    </message>
    <message>
        <source>%1: %2 of %3 GiB free</source>
        <translation>%1：%3 GiB 中可用 %2</translation>
    </message>
    <message>
        <source>device: auto uses the first GPU when there is one; cuda × N trains on all N GPUs at once (data parallel, one process per GPU); chat and prediction then use the first</source>
        <translation>device：auto 在有 GPU 时使用第一块 GPU；cuda × N 同时在全部 N 块 GPU 上训练（数据并行，每块 GPU 一个进程）；聊天和预测使用第一块</translation>
    </message>
</context>
<context>
    <name>tb::ui::PredictWizard</name>
    <message>
        <source>Batch prediction over a CSV</source>
        <translation>CSV 批量预测</translation>
    </message>
    <message>
        <source>Row %1 of %2 · %3 left</source>
        <translation>第 %1 / %2 行 · 剩余 %3</translation>
    </message>
    <message>
        <source>Last prediction: %1</source>
        <translation>最新预测：%1</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Run again</source>
        <translation>重新运行</translation>
    </message>
    <message>
        <source>Stopped after %1 rows; Resume continues where it stopped.</source>
        <translation>已在 %1 行后停止；点击“继续”从停止处接着运行。</translation>
    </message>
    <message>
        <source>%1 rows written to %2.</source>
        <translation>已将 %1 行写入 %2。</translation>
    </message>
    <message>
        <source> (%1 rows were already there from an earlier run.)</source>
        <translation>（其中 %1 行来自之前的运行。）</translation>
    </message>
    <message>
        <source>
Accuracy %1 · macro-F1 %2 (exact match with &apos;%3&apos;)</source>
        <translation>
准确率 %1 · 宏平均 F1 %2（与“%3”完全匹配）</translation>
    </message>
    <message>
        <source>Error: %1</source>
        <translation>错误：%1</translation>
    </message>
    <message>
        <source>
Hint: %1</source>
        <translation>
提示：%1</translation>
    </message>
    <message>
        <source>Choose a CSV file</source>
        <translation>选择 CSV 文件</translation>
    </message>
    <message>
        <source>UTF-8 or GBK/GB18030; the encoding is detected. Every row gets one prediction.</source>
        <translation>支持 UTF-8 或 GBK/GB18030，编码自动识别。每一行生成一个预测。</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>CSV file</source>
        <translation>CSV 文件</translation>
    </message>
    <message>
        <source>CSV files (*.csv);;All files (*)</source>
        <translation>CSV 文件 (*.csv);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Write the prompt</source>
        <translation>编写提示词</translation>
    </message>
    <message>
        <source>Use {column} for a column&apos;s value. The preview shows the first rows as the model will see them.</source>
        <translation>用 {column} 引用某列的值。预览显示模型将看到的前几行。</translation>
    </message>
    <message>
        <source>Insert column</source>
        <translation>插入列</translation>
    </message>
    <message>
        <source>A column with the expected answer: accuracy and F1 at the end</source>
        <translation>包含标准答案的列：结束时给出准确率和 F1</translation>
    </message>
    <message>
        <source>Prompt template</source>
        <translation>提示词模板</translation>
    </message>
    <message>
        <source>Label column</source>
        <translation>标签列</translation>
    </message>
    <message>
        <source>Preview of the first rows:</source>
        <translation>前几行预览：</translation>
    </message>
    <message>
        <source>Model and settings</source>
        <translation>模型与设置</translation>
    </message>
    <message>
        <source>Greedy decoding, so a run can be repeated and resumed with the same answers.</source>
        <translation>使用贪心解码，重复或继续运行都会得到相同的回答。</translation>
    </message>
    <message>
        <source>optional</source>
        <translation>可选</translation>
    </message>
    <message>
        <source>auto</source>
        <translation>自动</translation>
    </message>
    <message>
        <source>Model folder</source>
        <translation>模型文件夹</translation>
    </message>
    <message>
        <source>Adapter folder</source>
        <translation>适配器文件夹</translation>
    </message>
    <message>
        <source>Template</source>
        <translation>模板</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>Max new tokens</source>
        <translation>最大生成长度</translation>
    </message>
    <message>
        <source>Output CSV</source>
        <translation>输出 CSV</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>运行</translation>
    </message>
    <message>
        <source>Rows are written as they are predicted: stopping or a crash loses nothing, and running again continues after the last written row.</source>
        <translation>每预测一行就立即写入：停止或崩溃都不会丢失结果，再次运行会从最后写入的行之后继续。</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>开始</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Summary</source>
        <translation>总结</translation>
    </message>
    <message>
        <source>(none)</source>
        <translation>（无）</translation>
    </message>
    <message>
        <source>⚠ no rows</source>
        <translation>⚠ 没有数据行</translation>
    </message>
    <message>
        <source>— row %1 —
</source>
        <translation>— 第 %1 行 —
</translation>
    </message>
    <message>
        <source>⚠ %1 (%2)</source>
        <translation>⚠ %1（%2）</translation>
    </message>
    <message>
        <source>Loading the model…</source>
        <translation>正在加载模型…</translation>
    </message>
    <message>
        <source>Stopping after the current row…</source>
        <translation>当前行完成后停止…</translation>
    </message>
    <message>
        <source>From the top bar: quantization %1, attention %2</source>
        <translation>来自顶栏：量化 %1，注意力 %2</translation>
    </message>
    <message>
        <source>none</source>
        <translation>不量化</translation>
    </message>
    <message>
        <source>%1-bit</source>
        <translation>%1 位</translation>
    </message>
    <message>
        <source>Rows answered together (a new row joins as one finishes); more is faster until the GPU memory is full</source>
        <translation>同时作答的行数（一行完成即补入下一行）；在显存允许的范围内越大越快</translation>
    </message>
    <message>
        <source>Batch size</source>
        <translation>批大小</translation>
    </message>
</context>
<context>
    <name>tb::ui::TrainPage</name>
    <message>
        <source>the folder with dataset_info.json</source>
        <translation>包含 dataset_info.json 的文件夹</translation>
    </message>
    <message>
        <source>datasets registered in dataset_info.json (a comma list mixes them)</source>
        <translation>在 dataset_info.json 中登记的数据集（用逗号分隔可混合多个）</translation>
    </message>
    <message>
        <source>Dataset folder</source>
        <translation>数据集目录</translation>
    </message>
    <message>
        <source>Dataset</source>
        <translation>数据集</translation>
    </message>
    <message>
        <source>optional datasets for the eval loss instead of a val_size split</source>
        <translation>可选：用于计算验证损失的数据集（代替按 val_size 划分）</translation>
    </message>
    <message>
        <source>Eval dataset</source>
        <translation>验证数据集</translation>
    </message>
    <message>
        <source>Cutoff length</source>
        <translation>截断长度</translation>
    </message>
    <message>
        <source>longest tokenized example; longer ones are truncated</source>
        <translation>分词后样本的最大长度；更长的会被截断</translation>
    </message>
    <message>
        <source>Max samples</source>
        <translation>最大样本数</translation>
    </message>
    <message>
        <source>use at most this many examples per dataset (0 = all)</source>
        <translation>每个数据集最多使用这么多样本（0 = 全部）</translation>
    </message>
    <message>
        <source>Validation size</source>
        <translation>验证集比例</translation>
    </message>
    <message>
        <source>fraction held out for the eval loss (0 = none)</source>
        <translation>留作验证损失的比例（0 = 不划分）</translation>
    </message>
    <message>
        <source>Packing</source>
        <translation>序列打包</translation>
    </message>
    <message>
        <source>pack several short examples into one cutoff_len sequence</source>
        <translation>将多个短样本打包成一条 cutoff_len 长的序列</translation>
    </message>
    <message>
        <source>Neat packing</source>
        <translation>无污染打包</translation>
    </message>
    <message>
        <source>packing in which each example attends only to itself (turns packing on)</source>
        <translation>打包时每个样本只关注自身（会同时开启序列打包）</translation>
    </message>
    <message>
        <source>Train on prompt</source>
        <translation>在提示上训练</translation>
    </message>
    <message>
        <source>also learn the prompt tokens, not only the responses</source>
        <translation>除回答外也学习提示部分的词元</translation>
    </message>
    <message>
        <source>Mask history</source>
        <translation>遮蔽历史</translation>
    </message>
    <message>
        <source>learn only the last turn of a multi-turn conversation</source>
        <translation>多轮对话只学习最后一轮</translation>
    </message>
    <message>
        <source>Group by length</source>
        <translation>按长度分组</translation>
    </message>
    <message>
        <source>batch examples of similar length together (less padding)</source>
        <translation>把长度相近的样本放在同一批（减少填充）</translation>
    </message>
    <message>
        <source>LoRA rank</source>
        <translation>LoRA 秩</translation>
    </message>
    <message>
        <source>rank r of the A and B matrices</source>
        <translation>A、B 矩阵的秩 r</translation>
    </message>
    <message>
        <source>scale alpha/r of the LoRA update (2 × rank when 0)</source>
        <translation>LoRA 更新的缩放 alpha/r（为 0 时取 2 × 秩）</translation>
    </message>
    <message>
        <source>2 × rank</source>
        <translation>2 × 秩</translation>
    </message>
    <message>
        <source>LoRA alpha</source>
        <translation>LoRA alpha</translation>
    </message>
    <message>
        <source>LoRA dropout</source>
        <translation>LoRA 随机丢弃</translation>
    </message>
    <message>
        <source>dropout on the LoRA input while training</source>
        <translation>训练时对 LoRA 输入做 dropout</translation>
    </message>
    <message>
        <source>LoRA modules</source>
        <translation>LoRA 作用模块</translation>
    </message>
    <message>
        <source>all, or a comma list such as query_key_value</source>
        <translation>all，或用逗号分隔的模块名，如 query_key_value</translation>
    </message>
    <message>
        <source>rsLoRA</source>
        <translation>rsLoRA</translation>
    </message>
    <message>
        <source>rank-stabilised scale alpha/sqrt(r)</source>
        <translation>秩稳定缩放 alpha/sqrt(r)</translation>
    </message>
    <message>
        <source>AdaLoRA: initial rank</source>
        <translation>AdaLoRA：初始秩</translation>
    </message>
    <message>
        <source>AdaLoRA starts every matrix at this rank (init_r)</source>
        <translation>AdaLoRA 每个矩阵的初始秩（init_r）</translation>
    </message>
    <message>
        <source>AdaLoRA: target rank</source>
        <translation>AdaLoRA：目标秩</translation>
    </message>
    <message>
        <source>the average rank AdaLoRA prunes to, spending more where it matters (target_r)</source>
        <translation>AdaLoRA 裁剪到的平均秩，重要的矩阵保留更多（target_r）</translation>
    </message>
    <message>
        <source>AdaLoRA: warm-up steps</source>
        <translation>AdaLoRA：预热步数</translation>
    </message>
    <message>
        <source>steps before pruning starts (tinit)</source>
        <translation>开始裁剪前的步数（tinit）</translation>
    </message>
    <message>
        <source>AdaLoRA: final steps</source>
        <translation>AdaLoRA：收尾步数</translation>
    </message>
    <message>
        <source>last steps trained with the final ranks fixed (tfinal)</source>
        <translation>最后以固定秩训练的步数（tfinal）</translation>
    </message>
    <message>
        <source>AdaLoRA: orthogonality</source>
        <translation>AdaLoRA：正交约束</translation>
    </message>
    <message>
        <source>weight of the regulariser keeping A and B orthogonal (orth_reg_weight)</source>
        <translation>保持 A、B 正交的正则项权重（orth_reg_weight）</translation>
    </message>
    <message>
        <source>Freeze: trainable layers</source>
        <translation>冻结微调：可训练层数</translation>
    </message>
    <message>
        <source>freeze fine-tuning trains the last N layers (negative: the first N)</source>
        <translation>冻结微调只训练最后 N 层（负数：前 N 层）</translation>
    </message>
    <message>
        <source>Double quantization</source>
        <translation>双重量化</translation>
    </message>
    <message>
        <source>QLoRA 4-bit: quantize the NF4 scales too (saves ~0.4 bit per weight)</source>
        <translation>QLoRA 4 位：把 NF4 的缩放系数也量化（每个权重约省 0.4 位）</translation>
    </message>
    <message>
        <source>Learning rate</source>
        <translation>学习率</translation>
    </message>
    <message>
        <source>AdamW&apos;s peak learning rate</source>
        <translation>AdamW 的峰值学习率</translation>
    </message>
    <message>
        <source>Epochs</source>
        <translation>训练轮数</translation>
    </message>
    <message>
        <source>passes over the training set</source>
        <translation>遍历训练集的次数</translation>
    </message>
    <message>
        <source>stop after this many optimizer steps (overrides epochs; -1 = off)</source>
        <translation>达到这么多优化步后停止（优先于轮数；-1 = 不限）</translation>
    </message>
    <message>
        <source>Max steps</source>
        <translation>最大步数</translation>
    </message>
    <message>
        <source>Batch size</source>
        <translation>批大小</translation>
    </message>
    <message>
        <source>examples per micro-batch</source>
        <translation>每个微批次的样本数</translation>
    </message>
    <message>
        <source>Gradient accumulation</source>
        <translation>梯度累积</translation>
    </message>
    <message>
        <source>micro-batches per optimizer step</source>
        <translation>每个优化步包含的微批次数</translation>
    </message>
    <message>
        <source>Eval batch size</source>
        <translation>验证批大小</translation>
    </message>
    <message>
        <source>examples per batch for the eval loss</source>
        <translation>计算验证损失时每批的样本数</translation>
    </message>
    <message>
        <source>LR schedule</source>
        <translation>学习率调度</translation>
    </message>
    <message>
        <source>how the learning rate changes over the run</source>
        <translation>学习率在训练过程中的变化方式</translation>
    </message>
    <message>
        <source>Warm-up ratio</source>
        <translation>预热比例</translation>
    </message>
    <message>
        <source>fraction of the steps spent warming up</source>
        <translation>用于预热的步数比例</translation>
    </message>
    <message>
        <source>Warm-up steps</source>
        <translation>预热步数</translation>
    </message>
    <message>
        <source>warm-up steps (overrides the ratio when &gt; 0)</source>
        <translation>预热步数（大于 0 时优先于比例）</translation>
    </message>
    <message>
        <source>Weight decay</source>
        <translation>权重衰减</translation>
    </message>
    <message>
        <source>AdamW weight decay</source>
        <translation>AdamW 权重衰减</translation>
    </message>
    <message>
        <source>Max gradient norm</source>
        <translation>最大梯度范数</translation>
    </message>
    <message>
        <source>clip the gradient norm (0 = no clipping)</source>
        <translation>梯度范数裁剪（0 = 不裁剪）</translation>
    </message>
    <message>
        <source>Adam β1</source>
        <translation>Adam β1</translation>
    </message>
    <message>
        <source>AdamW beta1</source>
        <translation>AdamW beta1</translation>
    </message>
    <message>
        <source>Adam β2</source>
        <translation>Adam β2</translation>
    </message>
    <message>
        <source>AdamW beta2</source>
        <translation>AdamW beta2</translation>
    </message>
    <message>
        <source>Adam ε</source>
        <translation>Adam ε</translation>
    </message>
    <message>
        <source>AdamW epsilon</source>
        <translation>AdamW epsilon</translation>
    </message>
    <message>
        <source>compute type: bf16 on recent GPUs; fp16 needs CUDA; fp32 on CPU; pure_bf16 keeps even the trainable weights in bf16</source>
        <translation>计算类型：较新的 GPU 用 bf16；fp16 需要 CUDA；CPU 用 fp32；pure_bf16 连可训练权重也用 bf16</translation>
    </message>
    <message>
        <source>Precision</source>
        <translation>计算精度</translation>
    </message>
    <message>
        <source>Gradient checkpointing</source>
        <translation>梯度检查点</translation>
    </message>
    <message>
        <source>recompute activations in backward: much less memory, ~30% slower</source>
        <translation>反向传播时重算激活：显存大幅减少，速度慢约 30%</translation>
    </message>
    <message>
        <source>Checkpointing scope</source>
        <translation>检查点范围</translation>
    </message>
    <message>
        <source>layer: recompute whole layers (least memory); mlp: only the MLPs (faster, keeps the attention activations)</source>
        <translation>layer：重算整层（显存最省）；mlp：只重算 MLP（更快，保留注意力的激活值）</translation>
    </message>
    <message>
        <source>NEFTune noise</source>
        <translation>NEFTune 噪声</translation>
    </message>
    <message>
        <source>noise added to the embeddings while training (0 = off; 5 is common)</source>
        <translation>训练时给词嵌入加的噪声（0 = 关闭；常用 5）</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <source>data order, LoRA initialisation and dropout</source>
        <translation>决定数据顺序、LoRA 初始化和 dropout</translation>
    </message>
    <message>
        <source>checkpoints, the adapter, logs and the loss plot</source>
        <translation>检查点、适配器、日志和损失曲线</translation>
    </message>
    <message>
        <source>Output folder</source>
        <translation>输出目录</translation>
    </message>
    <message>
        <source>Overwrite it</source>
        <translation>覆盖</translation>
    </message>
    <message>
        <source>start over in a folder that holds an earlier run (its checkpoints are deleted)</source>
        <translation>在已有训练记录的文件夹中重新开始（其检查点会被删除）</translation>
    </message>
    <message>
        <source>Resume from</source>
        <translation>从检查点继续</translation>
    </message>
    <message>
        <source>a checkpoint-N folder, or true for the latest one in the output folder</source>
        <translation>checkpoint-N 文件夹，或填 true 表示输出目录中最新的检查点</translation>
    </message>
    <message>
        <source>a loss point every N steps</source>
        <translation>每 N 步记录一个损失点</translation>
    </message>
    <message>
        <source>Log every</source>
        <translation>日志间隔</translation>
    </message>
    <message>
        <source>Save every</source>
        <translation>保存间隔</translation>
    </message>
    <message>
        <source>a checkpoint every N steps</source>
        <translation>每 N 步保存一个检查点</translation>
    </message>
    <message>
        <source>Keep checkpoints</source>
        <translation>保留检查点数</translation>
    </message>
    <message>
        <source>keep only the newest N checkpoints (0 = all)</source>
        <translation>只保留最新的 N 个检查点（0 = 全部）</translation>
    </message>
    <message>
        <source>TensorBoard</source>
        <translation>TensorBoard</translation>
    </message>
    <message>
        <source>tensorboard: also write the loss, learning rate, gradient norm and eval loss as TensorBoard event files in the output folder&apos;s runs/ (tensorboard --logdir OUTPUT/runs)</source>
        <translation>tensorboard：同时把损失、学习率、梯度范数和评估损失写成 TensorBoard 事件文件，放在输出文件夹的 runs/ 下（tensorboard --logdir 输出文件夹/runs）</translation>
    </message>
    <message>
        <source>Eval every</source>
        <translation>验证间隔</translation>
    </message>
    <message>
        <source>eval loss every N steps (0 = at every log step)</source>
        <translation>每 N 步计算验证损失（0 = 每个日志步）</translation>
    </message>
    <message>
        <source>Tokenized copy</source>
        <translation>分词结果副本</translation>
    </message>
    <message>
        <source>also write the encoded training rows (input_ids, labels) to this folder</source>
        <translation>同时把编码后的训练数据（input_ids、labels）写到该文件夹</translation>
    </message>
    <message>
        <source>Data</source>
        <translation>数据</translation>
    </message>
    <message>
        <source>Method</source>
        <translation>方法</translation>
    </message>
    <message>
        <source>Optimisation</source>
        <translation>优化</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>输出</translation>
    </message>
    <message>
        <source>Preview command</source>
        <translation>预览命令</translation>
    </message>
    <message>
        <source>Save arguments…</source>
        <translation>保存参数…</translation>
    </message>
    <message>
        <source>Estimate</source>
        <translation>估算</translation>
    </message>
    <message>
        <source>Memory (weights, optimizer state, activations) against the device&apos;s free memory, and the time the run will take</source>
        <translation>估算显存/内存（权重、优化器状态、激活）是否放得下设备的可用内存，以及训练需要多长时间</translation>
    </message>
    <message>
        <source>Load arguments…</source>
        <translation>载入参数…</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>开始</translation>
    </message>
    <message>
        <source>Stop &amp;&amp; save</source>
        <translation>停止并保存</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Not started</source>
        <translation>尚未开始</translation>
    </message>
    <message>
        <source>Loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <source>training loss</source>
        <translation>训练损失</translation>
    </message>
    <message>
        <source>smoothed</source>
        <translation>平滑</translation>
    </message>
    <message>
        <source>eval loss</source>
        <translation>验证损失</translation>
    </message>
    <message>
        <source>learning rate (right axis)</source>
        <translation>学习率（右轴）</translation>
    </message>
    <message>
        <source>step</source>
        <translation>步数</translation>
    </message>
    <message>
        <source>tunebench-cli train config.yaml, where config.yaml is:
</source>
        <translation>tunebench-cli train config.yaml，其中 config.yaml 为：
</translation>
    </message>
    <message>
        <source>Save arguments</source>
        <translation>保存参数</translation>
    </message>
    <message>
        <source>YAML (*.yaml *.yml)</source>
        <translation>YAML (*.yaml *.yml)</translation>
    </message>
    <message>
        <source>Load arguments</source>
        <translation>载入参数</translation>
    </message>
    <message>
        <source>Stopping after this step; a checkpoint and the adapter will be saved…</source>
        <translation>本步完成后停止；将保存检查点和适配器…</translation>
    </message>
    <message>
        <source>Cancelling; earlier checkpoints stay as they are.</source>
        <translation>正在取消；之前的检查点保持不变。</translation>
    </message>
    <message>
        <source>Time: no estimate: %1</source>
        <translation>时间：无法估算：%1</translation>
    </message>
    <message>
        <source>Time ≈ %1 for %2 steps over %3 examples (%4 tokens; %5 TFLOP/s measured on %6). The live ETA replaces it once steps are timed.</source>
        <translation>时间 ≈ %1：%2 步，%3 个样本（%4 个词元；在 %6 上实测 %5 TFLOP/s）。训练开始计时后以实时剩余时间为准。</translation>
    </message>
    <message>
        <source>Stopped and saved: %1</source>
        <translation>已停止并保存：%1</translation>
    </message>
    <message>
        <source>Finished: %1</source>
        <translation>已完成：%1</translation>
    </message>
    <message>
        <source>Stopped: %1</source>
        <translation>已停止：%1</translation>
    </message>
    <message>
        <source>Error: %1</source>
        <translation>错误：%1</translation>
    </message>
    <message>
        <source>
Hint: %1</source>
        <translation>
提示：%1</translation>
    </message>
    <message>
        <source>Datasets: %1</source>
        <translation>数据集：%1</translation>
    </message>
    <message>
        <source>Error: %1
Hint: %2</source>
        <translation>错误：%1
提示：%2</translation>
    </message>
    <message>
        <source>Arguments saved to %1 (train them with: tunebench-cli train %1)</source>
        <translation>参数已保存到 %1（可用 tunebench-cli train %1 训练）</translation>
    </message>
    <message>
        <source>Arguments loaded from %1</source>
        <translation>已从 %1 载入参数</translation>
    </message>
    <message>
        <source>Memory ≈ %1 GiB on %2 (weights %3, optimizer %4, activations %5)</source>
        <translation>内存 ≈ %1 GiB，设备 %2（权重 %3，优化器 %4，激活 %5）</translation>
    </message>
    <message>
        <source> — fits in the %1 GiB free.</source>
        <translation> — 可放入 %1 GiB 可用内存。</translation>
    </message>
    <message>
        <source> — does NOT fit in the %1 GiB free: %2.</source>
        <translation> — 放不下 %1 GiB 可用内存：%2。</translation>
    </message>
    <message>
        <source>No estimate: %1</source>
        <translation>无法估算：%1</translation>
    </message>
    <message>
        <source>
Time: estimating (reading the dataset, measuring the device)…</source>
        <translation>
时间：正在估算（读取数据集、测量设备速度）…</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>正在启动…</translation>
    </message>
    <message>
        <source>Training %1 on %2 → %3</source>
        <translation>正在用 %2 训练 %1 → %3</translation>
    </message>
    <message>
        <source>Step %1 / %2 · epoch %3 · %4 tokens/s · %5 elapsed, %6 left · %7 MiB</source>
        <translation>第 %1 / %2 步 · 第 %3 轮 · %4 词元/秒 · 已用 %5，剩余 %6 · %7 MiB</translation>
    </message>
    <message>
        <source>step %1: loss %2, lr %3</source>
        <translation>第 %1 步：损失 %2，学习率 %3</translation>
    </message>
    <message>
        <source>step %1: eval loss %2</source>
        <translation>第 %1 步：验证损失 %2</translation>
    </message>
    <message>
        <source>continue training the adapter chosen in the top bar; off: new LoRA weights</source>
        <translation>继续训练顶栏中选择的适配器；不勾选：使用新的 LoRA 权重</translation>
    </message>
    <message>
        <source>Start from the adapter</source>
        <translation>从适配器开始</translation>
    </message>
    <message>
        <source>(no adapter chosen in the top bar)</source>
        <translation>（顶栏中未选择适配器）</translation>
    </message>
    <message>
        <source> (the field “%1”)</source>
        <translation>（字段“%1”）</translation>
    </message>
    <message>
        <source>Enable thinking</source>
        <translation>启用思考</translation>
    </message>
    <message>
        <source>reasoning templates (qwen3): a reply without &lt;think&gt;…&lt;/think&gt; learns an empty thought; off puts it in the prompt instead</source>
        <translation>推理模板（qwen3）：没有 &lt;think&gt;…&lt;/think&gt; 的回答学习一个空的思考；关闭时改为放在提示词中</translation>
    </message>
</context>
</TS>
