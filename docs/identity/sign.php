<?php
// Signed identity for the NPS survey, on a PHP server.

/** Lowercase hex HMAC-SHA256($secret, $userId): the `signature` the edge checks. */
function nps_identity_signature(string $secret, string $userId): string
{
    return hash_hmac('sha256', $userId, $secret);
}

/** The <script> that tells the survey who the signed-in user is; render it into the page. */
function nps_identify_script(string $userId): string
{
    // The edge's identity_secret: server only.
    $secret = getenv('NPS_IDENTITY_SECRET') ?: throw new RuntimeException('NPS_IDENTITY_SECRET is not set');
    $user = ['id' => $userId, 'signature' => nps_identity_signature($secret, $userId)];
    // JSON-encoded with < > & ' " escaped, so that no value can end the script element.
    $json = json_encode($user, JSON_HEX_TAG | JSON_HEX_AMP | JSON_HEX_APOS | JSON_HEX_QUOT | JSON_THROW_ON_ERROR);
    return "<script>nps('identify', $json);</script>";
}
