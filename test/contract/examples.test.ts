import t from 'tap';
import { createContractValidator, formatIssues } from '../../src/contracts/index.js';
import { schemaNames } from '../../generated/schemas.js';
import { hasExamples, readExamples } from '../helpers/examples.js';

const validator = createContractValidator();

t.test('when listing the schemas, then every one has an examples file with valid and invalid examples', async (t) => {
  for (const name of schemaNames) {
    if (name === 'envelope' || name === 'consumed-envelope') continue; // covered through each event's examples
    t.ok(hasExamples(name), `schemas/examples/${name}.json exists`);
    if (!hasExamples(name)) continue;
    const { valid, invalid } = readExamples(name);
    t.ok(valid.length >= 1, `${name} has a valid example`);
    t.ok(invalid.length >= 3, `${name} has at least 3 invalid examples`);
  }
});

for (const name of schemaNames.filter(hasExamples)) {
  t.test(`${name}: when validating its examples, then the valid pass and each invalid one fails`, async (t) => {
    const { valid, invalid } = readExamples(name);
    for (const example of valid) {
      const result = validator.validate(name, example.data);
      t.ok(result.ok, `valid: ${example.name}${result.ok ? '' : ` -> ${formatIssues(result.issues)}`}`);
    }
    for (const example of invalid) {
      const result = validator.validate(name, example.data);
      t.notOk(result.ok, `invalid: ${example.name}`);
      if (!result.ok) t.ok(result.issues.length > 0 && result.issues.every((i) => i.reason.length > 0), 'issues give reasons');
    }
  });
}
