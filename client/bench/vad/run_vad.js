// Runs a Silero VAD ONNX model (v5 or legacy) with onnxruntime-node over
// 16 kHz mono 16-bit PCM (a WAV file's data) in 512-sample frames and
// prints one speech probability per frame, one per line.
//   node run_vad.js MODEL.onnx AUDIO.wav
const fs = require("fs");
const ort = require("onnxruntime-node");

function pcm16(path) {
  const wav = fs.readFileSync(path);
  let at = 12;  // after "RIFF" size "WAVE": find the "data" chunk
  while (at + 8 <= wav.length) {
    const id = wav.toString("ascii", at, at + 4);
    const size = wav.readUInt32LE(at + 4);
    if (id === "data") {
      const samples = new Float32Array(size / 2);
      for (let i = 0; i < samples.length; ++i) samples[i] = wav.readInt16LE(at + 8 + 2 * i) / 32768;
      return samples;
    }
    at += 8 + size + (size % 2);
  }
  throw new Error(path + ": no data chunk");
}

(async () => {
  const [model, audio] = process.argv.slice(2);
  const session = await ort.InferenceSession.create(model);
  const samples = pcm16(audio);
  const legacy = session.inputNames.includes("h");
  const sr = new ort.Tensor("int64", BigInt64Array.from([16000n]), []);
  let state = new ort.Tensor("float32", new Float32Array(2 * 128), [2, 1, 128]);
  let h = new ort.Tensor("float32", new Float32Array(2 * 64), [2, 1, 64]);
  let c = new ort.Tensor("float32", new Float32Array(2 * 64), [2, 1, 64]);
  const out = [];
  for (let at = 0; at + 512 <= samples.length; at += 512) {
    const input = new ort.Tensor("float32", samples.slice(at, at + 512), [1, 512]);
    if (legacy) {
      const r = await session.run({ input, sr, h, c });
      h = r.hn;
      c = r.cn;
      out.push(r.output.data[0]);
    } else {
      const r = await session.run({ input, state, sr });
      state = r.stateN;
      out.push(r.output.data[0]);
    }
  }
  process.stdout.write(out.map((p) => p.toPrecision(9)).join("\n") + "\n");
})().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
