// Runs an ONNX file in ONNX Runtime (onnxruntime-node) for ort_test.go:
//
//   node ort_logits.mjs ORT_DIR MODEL.onnx INPUT.f32 N BATCH OUTPUT.f32
//
// ORT_DIR is the folder whose node_modules holds onnxruntime-node. INPUT holds N images, float32 little-endian
// (N, 1, 28, 28); the logits go to OUTPUT, float32 (N, classes), computed in batches of BATCH (the last one
// smaller), so that two batch sizes go through the graph. Prints one JSON line: version, input and output names.
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const [ortDir, model, input, nArg, batchArg, output] = process.argv.slice(2);
if (!output) {
  console.error("usage: node ort_logits.mjs ORT_DIR MODEL.onnx INPUT.f32 N BATCH OUTPUT.f32");
  process.exit(2);
}
// ES modules ignore NODE_PATH, so resolve the package from ORT_DIR explicitly.
const ort = createRequire(path.join(path.resolve(ortDir), "resolve.cjs"))("onnxruntime-node");
const n = Number(nArg), batch = Number(batchArg);
const raw = fs.readFileSync(input);
if (raw.length !== n * 784 * 4) throw new Error(`${input}: ${raw.length} bytes, want ${n * 784 * 4}`);
const x = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
const s = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
const chunks = [];
for (let i = 0; i < n; i += batch) {
  const b = Math.min(batch, n - i);
  const feed = { [s.inputNames[0]]: new ort.Tensor("float32", x.subarray(i * 784, (i + b) * 784), [b, 1, 28, 28]) };
  const y = (await s.run(feed))[s.outputNames[0]];
  if (y.dims.length !== 2 || y.dims[0] !== b) throw new Error(`output dims ${y.dims} for a batch of ${b}`);
  chunks.push(Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
}
fs.writeFileSync(output, Buffer.concat(chunks));
console.log(JSON.stringify({ version: ort.env.versions?.common ?? "", inputs: s.inputNames, outputs: s.outputNames }));
