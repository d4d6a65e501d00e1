<?php
// Test harness of docs/identity/sign.php (scripts/test-identity-snippets.sh): reads one user id per
// line (a JSON string) and prints, per id, {"signature", "script"} as one line of JSON.
require __DIR__ . '/../sign.php';

$secret = getenv('NPS_IDENTITY_SECRET');
while (($line = fgets(STDIN)) !== false) {
    $id = json_decode($line, false, 2, JSON_THROW_ON_ERROR);
    $out = ['signature' => nps_identity_signature($secret, $id), 'script' => nps_identify_script($id)];
    echo json_encode($out, JSON_THROW_ON_ERROR), "\n";
}
