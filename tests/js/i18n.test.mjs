// The page's words: every text has its English and its Chinese, with the same placeholders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TABLES } from '../../web/i18n.js';

const placeholders = (s) => [...String(s).matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

// Chinese for texts whose English the engine writes (the report's flow definition and
// lifecycle rules): the page shows the engine's words in English.
const ENGINE_ENGLISH = new Set(['flowDefTransactional', 'flowDefSubscription', 'lifecycleRules']);

test('English and Chinese have the same texts, each with the same placeholders', () => {
  const en = TABLES.en, zh = TABLES['zh-CN'];
  assert.deepEqual(Object.keys(zh).filter((k) => !(k in en) && !ENGINE_ENGLISH.has(k)), [], 'Chinese texts without English');
  assert.deepEqual(Object.keys(en).filter((k) => !(k in zh)), [], 'English texts without Chinese');
  for (const k of Object.keys(en)) assert.deepEqual(placeholders(zh[k]), placeholders(en[k]), k);
});
