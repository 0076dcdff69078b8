"""The pages people read: server-rendered Django templates over the same storage, index and permissions as the API.

``report`` (pure) decides what a crash's report page shows; ``sourcelinks`` (pure) links frames to their
source; ``access`` turns the signed-in user into the API's ``Caller``, so a page and an API request with the
same permissions see the same data; ``views`` reads storage and renders; ``assets`` serves the static files
(no CDN, no inline script or style, so the Content-Security-Policy stays strict).
"""
