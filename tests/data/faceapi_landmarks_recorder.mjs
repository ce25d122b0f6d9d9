// Records face-api's 68-point landmark net with its original runtime (face-api's own FaceLandmark68Net
// code, pre- and post-processing included, on TensorFlow.js's pure-JS CPU backend), for
// tests/test_face_landmarks_net.py.
//
// One-off, run by scripts/convert_faceapi_landmarks.py --record-reference (needs node + npm). Usage:
//   node faceapi_landmarks_recorder.mjs FACEAPI_PACKAGE_DIR INPUT.u8:HEIGHT:WIDTH [...]
// Each INPUT.u8 is HEIGHT*WIDTH*3 raw RGB bytes (row-major HWC), the face crop itself (face-api's
// extractFaceTensors output). Prints JSON to stdout.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as faceapi from './face-api.esm-nobundle.mjs';

const tf = faceapi.tf;
await tf.setBackend('cpu');
await tf.ready();

const [pkgDir, ...inputs] = process.argv.slice(2);
const name = 'face_landmark_68_model';
const manifest = JSON.parse(readFileSync(join(pkgDir, 'model', `${name}-weights_manifest.json`), 'utf8'));
const specs = manifest.flatMap((group) => group.weights);
const bin = readFileSync(join(pkgDir, 'model', manifest[0].paths[0]));
const weightMap = tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength), specs);

const net = new faceapi.FaceLandmark68Net();
net.loadFromWeightMap(weightMap);

const records = [];
for (const arg of inputs) {
  const [path, h, w] = arg.split(':');
  const bytes = readFileSync(path);
  const image = tf.tensor3d(Int32Array.from(bytes), [Number(h), Number(w), 3], 'int32');
  const netInput = await faceapi.toNetInput(image);
  const raw = net.runNet(netInput);
  const landmarks = await net.detectLandmarks(image);
  records.push({
    input: path.split('/').pop(),
    output: Array.from(raw.dataSync()),
    points: landmarks.positions.map((p) => [p.x, p.y]),
  });
}
console.log(JSON.stringify({
  runtime: `@vladmandic/face-api FaceLandmark68Net on @tensorflow/tfjs ${tf.version.tfjs} (backend ${tf.getBackend()})`,
  records,
}));
