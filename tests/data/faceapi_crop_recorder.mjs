// Records the crop face-api's own code feeds its expression net, for given 68-point landmarks on a photo:
// FaceLandmarks68.align() (box of the 68 points + 20 %) -> FaceDetection -> extractFaceTensors ->
// toNetInput -> toBatchTensor(112, true) (zero-pad to a square, resizeBilinear), and the net's output on it.
// One-off, run by scripts/record_faceapi_crops.py (needs node + npm). Usage:
//   node faceapi_crop_recorder.mjs FACEAPI_PACKAGE_DIR PHOTO.u8 WIDTH HEIGHT LANDMARKS.json
// PHOTO.u8 is WIDTH*HEIGHT*3 raw RGB bytes; LANDMARKS.json a list of 68x2 point lists. Prints JSON.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as faceapi from './face-api.esm-nobundle.mjs';

const tf = faceapi.tf;
await tf.setBackend('cpu');
await tf.ready();

const [pkgDir, photoPath, w, h, landmarksPath] = process.argv.slice(2);
const width = Number(w);
const height = Number(h);
const photo = tf.tensor3d(Int32Array.from(readFileSync(photoPath)), [height, width, 3], 'int32');
const manifest = JSON.parse(readFileSync(join(pkgDir, 'model', 'face_expression_model-weights_manifest.json'), 'utf8'));
const bin = readFileSync(join(pkgDir, 'model', manifest[0].paths[0]));
const weightMap = tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength), manifest.flatMap((g) => g.weights));
const net = new faceapi.FaceExpressionNet();
net.loadFromWeightMap(weightMap);

const dims = new faceapi.Dimensions(width, height);
const records = [];
for (const pts of JSON.parse(readFileSync(landmarksPath, 'utf8'))) {
  const rel = pts.map(([x, y]) => new faceapi.Point(x / width, y / height));
  const landmarks = new faceapi.FaceLandmarks68(rel, dims);
  const rect = landmarks.align();
  const aligned = new faceapi.FaceDetection(1, rect.rescale(dims.reverse()), dims);
  const [face] = await faceapi.extractFaceTensors(photo, [aligned]);
  const netInput = await faceapi.toNetInput(face);
  const batch = netInput.toBatchTensor(112, true);
  const probs = net.forwardInput(netInput);
  records.push({
    box: [rect.x, rect.y, rect.width, rect.height],
    face_shape: face.shape,
    crop: Array.from(batch.dataSync()),
    probs: Array.from(probs.dataSync()),
  });
}
console.log(JSON.stringify({ runtime: `@vladmandic/face-api on @tensorflow/tfjs ${tf.version.tfjs} (backend ${tf.getBackend()})`, records }));
