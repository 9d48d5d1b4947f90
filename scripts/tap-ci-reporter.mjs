// tap reporter: passes the TAP stream through unchanged and ends it with one line "N passed, N failed[, N skipped]",
// counting the top-level subtests of every test file (a file that crashes outside any subtest counts as one failure).
// tap wants a Duplex here; a plain Writable fails with ERR_STREAM_CANNOT_PIPE.
import { Transform } from 'node:stream';

export default class CiReporter extends Transform {
  #buffer = '';

  _transform(chunk, _encoding, callback) {
    this.#buffer += chunk.toString();
    callback(null, chunk);
  }

  _flush(callback) {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    let failuresInFile = 0;
    for (const line of this.#buffer.split('\n')) {
      const subtest = /^ {4}(not ok|ok) \d+ - .*?(# (SKIP|TODO)\b.*)?$/.exec(line);
      if (subtest) {
        if (subtest[3]) skipped++;
        else if (subtest[1] === 'ok') passed++;
        else {
          failed++;
          failuresInFile++;
        }
        continue;
      }
      const file = /^(not ok|ok) \d+ - /.exec(line);
      if (file) {
        if (file[1] === 'not ok' && failuresInFile === 0) failed++;
        failuresInFile = 0;
      }
    }
    callback(null, `\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  }
}
