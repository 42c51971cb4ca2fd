"""The web workspace: sign-in with passkeys, the inbox, gate pages and decisions signed in the browser."""
