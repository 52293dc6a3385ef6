// Package pii protects the personal data Tongxin holds: resident ID numbers,
// mobile phone numbers, names and vehicle plates of residents, volunteers,
// enterprise staff and drivers.
//
// # Encryption at rest
//
// A [Box] seals every personal value with AES-256-GCM before it is written
// to the database, so a copied database file, a backup or a careless SQL
// query shows only ciphertext. Each value gets a fresh random nonce; the
// sealed form is a one-byte format version, the 12-byte nonce and the
// ciphertext with its authentication tag. Any change to the stored bytes
// makes [Box.Open] fail instead of returning wrong data.
//
// # Blind index
//
// Random nonces make ciphertexts of the same value differ, so the database
// cannot look them up. Next to each sealed column, modules store a blind
// index: [Box.Index], an HMAC-SHA256 of the normalized value under a second
// key, separated by kind ("id", "phone", "plate"…) so that equal strings of
// different kinds never share an index. The index supports exact lookup and
// uniqueness constraints ("is this phone already registered?") without
// decrypting a table and without the weakness of a plain hash: without the
// key, nobody can test guesses against the small space of phone or ID
// numbers. Values must go through the Normalize functions first, so that
// "138 0013 8000" and "+8613800138000" index alike.
//
// # Masking by default
//
// Screens, exports, logs and API answers show personal data masked
// ([MaskID], [MaskPhone], [MaskName], [MaskPlate], [Last4]): a masked value
// is enough to recognise a person in a list or on a phone call, and it
// limits what leaks through a screenshot, a shared spreadsheet or a
// shoulder. Revealing a full value is a separate, permission-checked and
// audited act performed by the calling module, never the default.
//
// # Keys
//
// [LoadOrCreate] keeps both keys in one small versioned text file, pii.key,
// readable by the owner only. Losing the file makes every sealed value
// unreadable, so it belongs in the backups, separately from the database.
//
// # Validation
//
// The Normalize functions check Chinese resident ID numbers (GB 11643),
// mainland mobile numbers, unified social credit codes (GB 32100) and
// vehicle plates, and return the canonical form. Their errors carry a short
// Chinese message meant to be shown to the user as is, and all of them match
// [ErrInvalid] with errors.Is.
package pii
