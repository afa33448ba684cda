// Prints this process's provenance as JSON: the provenance tests run it under launchers.
import { collectProvenance } from '../../src/provenance/index.js';

process.stdout.write(JSON.stringify(collectProvenance()));
