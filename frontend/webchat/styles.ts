// The widget's styles, inside its shadow root: the host page's CSS cannot reach in, and
// `all: initial` on the host stops inherited fonts and colours from leaking through.
// The page may set --adw-accent on the agentdesk-webchat element to change the colour.
export const styles = `
:host{all:initial;position:fixed;right:20px;bottom:20px;z-index:2147483000;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;--a:var(--adw-accent,#2457c5)}
*{box-sizing:border-box;font:inherit;color:inherit;margin:0}
[hidden]{display:none!important}
button,input,textarea{border-radius:8px}
button{white-space:nowrap;cursor:pointer;border:1px solid var(--a);background:#fff;color:var(--a);padding:7px 12px;font-weight:600}
button.primary,.launcher{background:var(--a);color:#fff}
button:disabled{opacity:.6;cursor:default}
:focus-visible{outline:3px solid #f5a623;outline-offset:2px}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.launcher svg{width:20px;height:20px;fill:currentColor}.launcher{display:flex;gap:8px;align-items:center;margin-left:auto;padding:12px 18px;border-radius:999px;box-shadow:0 4px 14px #0003}
.badge{background:#d93025;color:#fff;border-radius:999px;min-width:20px;padding:0 6px;font-size:12px;text-align:center}
.panel{position:absolute;right:0;bottom:60px;width:min(370px,calc(100vw - 40px));height:min(560px,calc(100vh - 100px));display:flex;flex-direction:column;background:#fff;border-radius:14px;box-shadow:0 10px 40px #0004;overflow:hidden}
header{display:flex;align-items:center;justify-content:space-between;background:var(--a);color:#fff;padding:12px 16px}
h2{font-size:16px;font-weight:700}
header button{background:none;border:0;color:#fff;font-size:20px;line-height:1;padding:2px 8px}
.status{padding:6px 16px;background:#f3f5f9;color:#4a5366;font-size:13px;border-bottom:1px solid #e3e7ef}
.status:empty{display:none}
.body{flex:1;display:flex;flex-direction:column;min-height:0}
form.start,.note{padding:16px;display:flex;flex-direction:column;gap:10px;overflow:auto}
label{font-weight:600;font-size:13px}
input,textarea{width:100%;border:1px solid #b8c0cf;padding:8px 10px;background:#fff;resize:none}
.log{flex:1;overflow-y:auto;padding:12px 14px;display:flex;flex-direction:column;gap:10px}
.msg{max-width:82%;display:flex;flex-direction:column;gap:2px}
.msg p{padding:8px 12px;border-radius:14px;white-space:pre-wrap;overflow-wrap:anywhere}
.msg small{font-size:11px;color:#687287}
.agent{align-self:flex-start}.agent p{background:#eef1f6;border-bottom-left-radius:4px}
.contact{align-self:flex-end;align-items:flex-end}.contact p{background:var(--a);color:#fff;border-bottom-right-radius:4px}
.system{align-self:center;text-align:center;max-width:90%;font-size:12px;color:#5b6478;font-style:italic}
footer{border-top:1px solid #e3e7ef;padding:10px 12px;display:flex;flex-direction:column;gap:8px}
.row{display:flex;gap:8px;align-items:center}
.row textarea{flex:1}
.small{font-size:12px;padding:4px 10px;border-color:#b8c0cf;color:#4a5366}
.confirm{justify-content:flex-end;font-size:13px}.confirm span{margin-right:auto;white-space:nowrap}.confirm button{padding:6px 10px}
.ended{align-items:center;text-align:center}
.ended strong{font-size:15px;font-weight:700}
.attach{padding:6px 8px;border-color:#b8c0cf;color:#4a5366;display:flex}.attach svg{width:18px;height:18px;fill:currentColor}
.send{position:relative;display:flex}
button[aria-disabled=true]{opacity:.6;cursor:default}
.tip{position:absolute;right:0;bottom:calc(100% + 6px);width:max-content;max-width:240px;background:#1d2330;color:#fff;font-size:12px;padding:6px 8px;border-radius:6px;white-space:normal;display:none;z-index:2}
.send:hover .tip,.send:focus-within .tip{display:block}
.chips{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:6px;max-height:150px;overflow-y:auto}
.chip{display:flex;align-items:center;gap:6px;max-width:100%;border:1px solid #d5d9e2;border-radius:8px;padding:4px 4px 4px 6px;font-size:12px}
.chip.infected,.chip.too-large,.chip.failed{border-color:#a50e0e;background:#fdecea}
.chip img,.chip .ext{width:32px;height:32px;border-radius:4px;object-fit:cover;flex:none}
.chip .ext{display:flex;align-items:center;justify-content:center;background:#f3f5f9;color:#4a5366;font-size:9px;font-weight:700}
.chip .info{display:flex;flex-direction:column;min-width:0}
.chip .name{font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;max-width:200px}
.chip .size,.chip .note{color:#687287;font-size:11px}.chip .note{font-style:italic}
.chip progress{width:120px;height:6px;accent-color:var(--a)}
.problem{color:#a50e0e;font-weight:600;font-size:12px}
.chip .remove{border:0;background:none;color:#4a5366;padding:0 6px;font-size:16px;align-self:flex-start}
.panel.dropping{outline:3px dashed var(--a);outline-offset:-3px}
.files{list-style:none;padding:0;display:flex;flex-direction:column;gap:4px;margin-top:2px}
.files li{display:flex;flex-direction:column;gap:2px;align-items:inherit}
.thumb{max-width:220px;max-height:160px;border-radius:8px;border:1px solid #e3e7ef}
button.file{display:flex;gap:6px;align-items:baseline;max-width:100%;font-weight:600;padding:5px 10px;border-color:#b8c0cf;background:#fff;color:var(--a)}
button.file .name{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}button.file .size{color:#687287;font-weight:400;font-size:12px}
.error{background:#fdecea;color:#a50e0e;padding:8px 16px;font-size:13px}
.error:empty{display:none}
@media (max-width:480px){.panel{position:fixed;inset:0;width:auto;height:auto;border-radius:0}}
`;
