// Every spec gets a fresh in-memory IndexedDB per database name; Dexie finds it on the global.
import 'fake-indexeddb/auto';
