// examples/real-model: reads nsfwjs's bundled MobileNetV2 (a Keras model
// converted to a TF.js layers model, uint8-quantised weights in a base64
// bundle), and writes what scripts/convert_nsfwjs.py needs:
//   OUT/topology.json  the Keras model config (layers and their links)
//   OUT/weights.json   [{name, shape, offset}] into weights.f32
//   OUT/weights.f32    every weight as TF.js dequantises it (little-endian float32)
// With --reference IN.f32 N it also runs the model with TF.js itself (the
// pure-JS CPU backend) on N images of 224x224x3 floats (NHWC, as nsfwjs
// feeds it: pixels / 255) and writes OUT/tfjs_out.f32 (N x 5 float32).
//   node export_nsfwjs.cjs OUT [--reference IN.f32 N]
'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');

async function main() {
  const args = process.argv.slice(2);
  if (args.length !== 1 && !(args.length === 4 && args[1] === '--reference')) {
    console.error('usage: node export_nsfwjs.cjs OUT [--reference IN.f32 N]');
    process.exit(2);
  }
  const out = args[0];
  fs.mkdirSync(out, { recursive: true });
  await tf.setBackend('cpu');
  // the package's main file is dist/cjs/index.js; its root is three levels up
  const dir = path.resolve(path.dirname(require.resolve('nsfwjs')), '..', '..');
  const mod = require(path.join(dir, 'dist/models/mobilenet_v2/model.min.js'));
  const shard = require(path.join(dir, 'dist/models/mobilenet_v2/group1-shard1of1.min.js'));
  const modelJson = mod.default || mod;
  const base64 = shard.default || shard;
  const data = new Uint8Array(Buffer.from(base64, 'base64'));
  const specs = [];
  for (const group of modelJson.weightsManifest) specs.push(...group.weights);
  // TF.js's own dequantisation (q * scale + min, in float32)
  const named = tf.io.decodeWeights(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength), specs);
  const index = [];
  const chunks = [];
  let offset = 0;
  for (const s of specs) {
    const v = named[s.name].dataSync();
    const f = Float32Array.from(v);
    index.push({ name: s.name, shape: s.shape, offset });
    chunks.push(Buffer.from(f.buffer));
    offset += f.length;
  }
  fs.writeFileSync(path.join(out, 'topology.json'), JSON.stringify(modelJson.modelTopology));
  fs.writeFileSync(path.join(out, 'weights.json'), JSON.stringify(index));
  fs.writeFileSync(path.join(out, 'weights.f32'), Buffer.concat(chunks));
  console.log(`export_nsfwjs: ${specs.length} weights, ${offset} values -> ${out}`);
  if (args.length === 4) {
    const n = parseInt(args[3], 10);
    const raw = fs.readFileSync(args[2]);
    const want = n * 224 * 224 * 3 * 4;
    if (!(n > 0) || raw.length !== want) {
      console.error(`export_nsfwjs: ${args[2]}: ${raw.length} bytes, expected ${want} (${n} images)`);
      process.exit(1);
    }
    const input = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
    const artifacts = {
      modelTopology: modelJson.modelTopology,
      weightSpecs: specs,
      weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
    };
    const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    const x = tf.tensor4d(input, [n, 224, 224, 3]);
    const y = model.predict(x);
    const probs = Float32Array.from(y.dataSync());
    fs.writeFileSync(path.join(out, 'tfjs_out.f32'), Buffer.from(probs.buffer));
    console.log(`export_nsfwjs: TF.js (${tf.getBackend()} backend) ran ${n} images -> tfjs_out.f32`);
  }
}

main().catch((e) => {
  console.error('export_nsfwjs: ' + (e && e.stack ? e.stack : e));
  process.exit(1);
});
