"""Users, permissions and API tokens (Django's auth, plus Crashcart's four permissions and its tokens)."""
