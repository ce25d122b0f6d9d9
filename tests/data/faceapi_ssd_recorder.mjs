// Records face-api's face detector (SsdMobilenetv1) with its original runtime (face-api's own code,
// pre- and post-processing included, on TensorFlow.js's pure-JS CPU backend), for
// tests/test_faceapi_ssd.py.
//
// One-off, run by scripts/convert_faceapi_ssd.py --record-reference (needs node + npm). Usage:
//   node faceapi_ssd_recorder.mjs FACEAPI_PACKAGE_DIR PHOTO.u8:HEIGHT:WIDTH [...]
// Each PHOTO.u8 is HEIGHT*WIDTH*3 raw RGB bytes (row-major HWC). Prints JSON to stdout: per photo the
// network's decoded boxes and scores of the TOP best-scoring anchors, and locateFaces' detections.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as faceapi from './face-api.esm-nobundle.mjs';

const TOP = 300;
const tf = faceapi.tf;
await tf.setBackend('cpu');
await tf.ready();

const [pkgDir, ...inputs] = process.argv.slice(2);
const name = 'ssd_mobilenetv1_model';
const manifest = JSON.parse(readFileSync(join(pkgDir, 'model', `${name}-weights_manifest.json`), 'utf8'));
const specs = manifest.flatMap((group) => group.weights);
const bin = Buffer.concat(manifest.flatMap((g) => g.paths).map((p) => readFileSync(join(pkgDir, 'model', p))));
const net = new faceapi.SsdMobilenetv1();
net.loadFromWeightMap(tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength), specs));

const records = [];
for (const arg of inputs) {
  const [path, h, w] = arg.split(':');
  const image = tf.tensor3d(Int32Array.from(readFileSync(path)), [Number(h), Number(w), 3], 'int32');
  const { boxes, scores } = net.forwardInput(await faceapi.toNetInput(image));
  const s = Array.from(scores[0].dataSync());
  const b = boxes[0].arraySync();
  const top = s.map((v, i) => [v, i]).sort((p, q) => q[0] - p[0]).slice(0, TOP).map((p) => p[1]);
  const found = await net.locateFaces(image);
  records.push({
    input: path.split('/').pop(),
    top_indices: top,
    top_boxes: top.map((i) => b[i]),
    top_scores: top.map((i) => s[i]),
    detections: found.map((d) => ({ box: [d.box.x, d.box.y, d.box.x + d.box.width, d.box.y + d.box.height], score: d.score })),
  });
  image.dispose();
}
console.log(JSON.stringify({
  runtime: `@vladmandic/face-api SsdMobilenetv1 on @tensorflow/tfjs ${tf.version.tfjs} (backend ${tf.getBackend()})`,
  records,
}));
