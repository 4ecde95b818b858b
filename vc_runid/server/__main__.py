"""``python -m vc_runid.server [serve options]``: start the issuer service without the main CLI."""

from ..cli.serve import serve_main

serve_main()
