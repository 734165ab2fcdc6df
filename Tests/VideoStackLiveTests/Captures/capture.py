# Minimal RTMP responder that records what an encoder sends (for the fuzz test's capture).
import socket, struct, sys, os
def amf_str(s): b=s.encode(); return b'\x02'+struct.pack('>H',len(b))+b
def amf_num(n): return b'\x00'+struct.pack('>d',n)
def amf_obj(d):
    out=b'\x03'
    for k,v in d: kb=k.encode(); out+=struct.pack('>H',len(kb))+kb+v
    return out+b'\x00\x00\x09'
def chunk(csid, typ, sid, payload):
    hdr=bytes([csid])+b'\x00\x00\x00'+struct.pack('>I',len(payload))[1:]+bytes([typ])+struct.pack('<I',sid)
    out=hdr; first=True
    for i in range(0,len(payload),128):
        if not first: out+=bytes([0xC0|csid])
        out+=payload[i:i+128]; first=False
    return out
srv=socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR,1); srv.bind(('127.0.0.1',0)); srv.listen(1)
print(srv.getsockname()[1], flush=True)
c,_=srv.accept(); rec=bytearray()
def recv_exact(n):
    while len(rec)<n:
        d=c.recv(65536)
        if not d: return False
        rec.extend(d)
    return True
recv_exact(1537)
c.sendall(b'\x03'+b'\x00'*8+os.urandom(1528)+bytes(rec[1:1537]))
recv_exact(1537+1536)
done=set()
while True:
    d=c.recv(65536)
    if not d: break
    rec.extend(d)
    if 'connect' not in done and amf_str('connect') in rec:
        done.add('connect')
        c.sendall(chunk(3,20,0,amf_str('_result')+amf_num(1)+amf_obj([('fmsVer',amf_str('FMS/3,0,1,123'))])+amf_obj([('level',amf_str('status')),('code',amf_str('NetConnection.Connect.Success')),('description',amf_str('ok'))])))
    if 'cs' not in done and amf_str('createStream') in rec:
        done.add('cs')
        i=rec.find(amf_str('createStream'))+len(amf_str('createStream'))
        txn=struct.unpack('>d',rec[i+1:i+9])[0]
        c.sendall(chunk(3,20,0,amf_str('_result')+amf_num(txn)+b'\x05'+amf_num(1)))
    if 'pub' not in done and amf_str('publish') in rec:
        done.add('pub')
        c.sendall(chunk(5,20,1,amf_str('onStatus')+amf_num(0)+b'\x05'+amf_obj([('level',amf_str('status')),('code',amf_str('NetStream.Publish.Start')),('description',amf_str('go'))])))
open(sys.argv[1],'wb').write(rec)
print('captured',len(rec),flush=True)
