/**
 * `PUT /api/studio/<address>/live/<id>/chunks/<seq>`: one MediaRecorder chunk (raw bytes), seq
 * from 0 in recording order, from the creator's session. The session, the stream and the declared
 * size are checked before a byte is read; the body is cut off past LIVE_CHUNK_MAX_BYTES. Answers
 * `{appended, nextSeq}`: a seq already appended (a retry after a network error) answers
 * `appended: false` and is not fed twice; a seq ahead of the next one is refused (409, `nextSeq`).
 */
import { BodyTooLargeError, checkDeclaredLength, readBodyBytes } from "@streamvault/lib/http/body-limit.ts";
import { studioCreator } from "@/lib/server/keyrelease";
import { CHUNK_MAX_BYTES, GoLiveError, acceptChunk, checkChunkTarget } from "@/lib/server/golive";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const json = (body: unknown, status = 200) => Response.json(body, { status, headers: { "cache-control": "no-store" } });

export async function PUT(request: Request, ctx: { params: Promise<{ address: string; id: string; seq: string }> }): Promise<Response> {
  const { address, id, seq: seqText } = await ctx.params;
  const creator = await studioCreator(request, address);
  if (creator instanceof Response) return creator;
  if (!/^\d{1,9}$/.test(seqText)) return json({ error: "bad_input", message: "the chunk number must be a whole number from 0" }, 400);
  const seq = Number(seqText);
  try {
    checkChunkTarget(creator, id);
    checkDeclaredLength(request.headers.get("content-length"), CHUNK_MAX_BYTES);
    const bytes = await readBodyBytes(request, CHUNK_MAX_BYTES);
    if (bytes.byteLength === 0) return json({ error: "bad_input", message: "the chunk is empty: send the recorder's bytes" }, 400);
    return json(await acceptChunk(creator, id, seq, bytes));
  } catch (err) {
    if (err instanceof BodyTooLargeError) return json({ error: "too_large", message: `${err.message} per chunk: record with a shorter timeslice or a lower bitrate` }, 413);
    if (err instanceof GoLiveError) return json({ error: err.code, message: err.message, ...err.extra }, err.status);
    throw err;
  }
}
