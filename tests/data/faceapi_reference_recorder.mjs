// Records the face-api expression net's output with its original runtime (face-api's own
// FaceExpressionNet code on TensorFlow.js's pure-JS CPU backend), for tests/test_reference_faceapi.py.
//
// One-off, run by scripts/convert_faceapi.py --record-reference (needs node + npm; fetches
// @vladmandic/face-api and @tensorflow/tfjs into a scratch folder). Usage:
//   node faceapi_reference_recorder.mjs FACEAPI_PACKAGE_DIR INPUT.u8 [INPUT.u8 ...]
// Each INPUT.u8 is 112*112*3 raw RGB bytes (row-major HWC). Prints JSON to stdout.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as faceapi from './face-api.esm-nobundle.mjs';

const tf = faceapi.tf;
await tf.setBackend('cpu');
await tf.ready();

const [pkgDir, ...inputs] = process.argv.slice(2);
const manifest = JSON.parse(readFileSync(join(pkgDir, 'model', 'face_expression_model-weights_manifest.json'), 'utf8'));
const specs = manifest.flatMap((group) => group.weights);
const bin = readFileSync(join(pkgDir, 'model', manifest[0].paths[0]));
const weightMap = tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength), specs);

const net = new faceapi.FaceExpressionNet();
net.loadFromWeightMap(weightMap);

const records = [];
for (const path of inputs) {
  const bytes = readFileSync(path);
  const image = tf.tensor4d(Float32Array.from(bytes), [1, 112, 112, 3], 'float32');
  const netInput = await faceapi.toNetInput(image);
  const logits = net.runNet(netInput);
  const probs = tf.softmax(logits);
  records.push({ input: path.split('/').pop(), logits: Array.from(logits.dataSync()), probs: Array.from(probs.dataSync()) });
}
console.log(JSON.stringify({
  runtime: `@vladmandic/face-api FaceExpressionNet on @tensorflow/tfjs ${tf.version.tfjs} (backend ${tf.getBackend()})`,
  classes: ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'],
  records,
}, null, 1));
