// face-api's own full pipeline (SSD MobileNet v1 detector, default options: minConfidence 0.5 ->
// 68-point landmark net -> expression net on its aligned box), on TensorFlow.js's pure-JS CPU
// backend, for benchmarks/faceapi_agreement.py. Offline once tfjs is installed.
// Usage (run from a folder holding node_modules/@tensorflow/tfjs and face-api.esm-nobundle.mjs):
//   node faceapi_pipeline.mjs FACEAPI_PACKAGE_DIR PHOTO.u8:HEIGHT:WIDTH [...]
// Each PHOTO.u8 is HEIGHT*WIDTH*3 raw RGB bytes. Prints one JSON document to stdout.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as faceapi from './face-api.esm-nobundle.mjs';

const tf = faceapi.tf;
await tf.setBackend('cpu');
await tf.ready();

const [pkgDir, ...photos] = process.argv.slice(2);
function load(net, name) {
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'model', `${name}-weights_manifest.json`), 'utf8'));
  const specs = manifest.flatMap((group) => group.weights);
  const bin = Buffer.concat(manifest.flatMap((g) => g.paths).map((p) => readFileSync(join(pkgDir, 'model', p))));
  net.loadFromWeightMap(tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength), specs));
}
load(faceapi.nets.ssdMobilenetv1, 'ssd_mobilenetv1_model');
load(faceapi.nets.faceLandmark68Net, 'face_landmark_68_model');
load(faceapi.nets.faceExpressionNet, 'face_expression_model');

const box = (b) => [b.x, b.y, b.x + b.width, b.y + b.height];
const results = [];
for (const arg of photos) {
  const [path, h, w] = arg.split(':');
  const image = tf.tensor3d(Int32Array.from(readFileSync(path)), [Number(h), Number(w), 3], 'int32');
  const found = await faceapi.detectAllFaces(image).withFaceLandmarks().withFaceExpressions();
  results.push({
    photo: path.split('/').pop(),
    faces: found.map((f) => ({
      box: box(f.detection.box),
      score: f.detection.score,
      landmarks68: f.landmarks.positions.map((p) => [p.x, p.y]),
      aligned_box: box(f.alignedRect.box),
      expressions: f.expressions,
    })),
  });
  image.dispose();
}
console.log(JSON.stringify({
  runtime: `@vladmandic/face-api (SSD MobileNet v1 + FaceLandmark68Net + FaceExpressionNet) on @tensorflow/tfjs ${tf.version.tfjs} (backend ${tf.getBackend()})`,
  results,
}));
