// The tag's pure sources as the bridge serves them: the files src/routes/tag.rs's TAG_SOURCES
// lists, in its order, evaluated in one strict context as the served tag evaluates them inside
// one function. tag.js, the part that needs a browser, is left to the Chromium tests.
import { readFileSync } from 'node:fs';
import vm from 'node:vm';

const root = new URL('../../', import.meta.url);
export const read = (path) => readFileSync(new URL(path, root), 'utf8');

// The files in TAG_SOURCES, in order (`include_str!("../tag/cookies.js")` -> cookies.js).
export const served = [...read('src/routes/tag.rs').matchAll(/include_str!\("\.\.\/tag\/([\w.]+)"\)/g)].map(
  (m) => m[1]
);

const pure = served.filter((f) => f !== 'tag.js');
export const tag = vm.createContext({ TextEncoder });
vm.runInContext("'use strict';\n" + pure.map((f) => read(`src/tag/${f}`)).join('\n'), tag, {
  filename: 'src/tag/*.js'
});
