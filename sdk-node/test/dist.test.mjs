// dist/ is committed (so `npm install <checkout>/sdk-node` needs no build step and no
// dependencies): it must be exactly what `npm run build` makes from src/ and the locked
// dependencies.
import assert from "node:assert/strict";
import { it } from "node:test";

import { STALE_HINT, staleness } from "../scripts/build.mjs";

it("the committed dist/ is up to date with src/", async () => {
  const problems = await staleness();
  assert.deepEqual(problems, [], `sdk-node/dist/ is stale:\n  ${problems.join("\n  ")}\n${STALE_HINT}`);
});
