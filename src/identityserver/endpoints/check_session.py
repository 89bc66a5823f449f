"""The check-session iframe (Duende ``CheckSessionEndpoint``; OIDC Session Management 1.0 §3.3, §4).

Relying parties embed it and post ``client_id session_state``; it answers ``changed``, ``unchanged`` or
``error`` by recomputing the session state from the ``idsrv.session`` cookie. It must be frameable."""

from __future__ import annotations

import base64
import hashlib

from identityserver.endpoints.results import HtmlResult, StatusCodeResult
from identityserver.http.request import EndpointRequest

SCRIPT = """(function(){
var cookieName=%(cookie)s;
function getCookie(name){var parts=document.cookie.split(';');for(var i=0;i<parts.length;i++){
var c=parts[i].trim();if(c.indexOf(name+'=')===0){return decodeURIComponent(c.substring(name.length+1));}}return '';}
function b64url(buf){var s=String.fromCharCode.apply(null,new Uint8Array(buf));
return btoa(s).replace(/\\+/g,'-').replace(/\\//g,'_').replace(/=+$/,'');}
window.addEventListener('message',function(e){
if(typeof e.data!=='string'){return;}
var parts=e.data.split(' ');if(parts.length!==2){e.source.postMessage('error',e.origin);return;}
var clientId=parts[0],state=parts[1],idx=state.lastIndexOf('.');
if(idx<0){e.source.postMessage('error',e.origin);return;}
var salt=state.substring(idx+1),sid=getCookie(cookieName);
var data=new TextEncoder().encode(clientId+e.origin+sid+salt);
crypto.subtle.digest('SHA-256',data).then(function(h){
var expected=b64url(h)+'.'+salt;e.source.postMessage(expected===state?'unchanged':'changed',e.origin);
},function(){e.source.postMessage('error',e.origin);});
},false);
})();"""


class CheckSessionEndpoint:
    def __init__(self, cookie_name: str) -> None:
        import json

        self.script = SCRIPT % {"cookie": json.dumps(cookie_name)}
        self.script_hash = base64.b64encode(hashlib.sha256(self.script.encode("utf-8")).digest()).decode("ascii")

    async def process(self, request: EndpointRequest) -> HtmlResult | StatusCodeResult:
        if request.method != "GET":
            return StatusCodeResult(405, {"Allow": "GET"})
        html = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>check session</title></head>"
            f"<body><script>{self.script}</script></body></html>"
        )
        return HtmlResult(html, script_hashes=[self.script_hash], frameable=True)
