(function(){
var cookieName={{ cookie_name|tojson }};
function getCookie(name){var parts=document.cookie.split(';');for(var i=0;i<parts.length;i++){
var c=parts[i].trim();if(c.indexOf(name+'=')===0){return decodeURIComponent(c.substring(name.length+1));}}return '';}
function b64url(buf){var s=String.fromCharCode.apply(null,new Uint8Array(buf));
return btoa(s).replace(/\+/g,'-').replace(/\//g,'_').replace(/=+$/,'');}
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
})();