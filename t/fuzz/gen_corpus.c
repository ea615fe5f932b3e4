/* gen_corpus — writes the seed corpus of the fuzz targets into DIR/<target>/
 * (`make fuzz-corpus` runs it on t/fuzz/corpus; the output is committed).
 *
 * Deterministic: tokens are signed with the fixed key of lc_fuzz_token.h at
 * the fixed time of lc_fuzz.h (Ed25519 signatures are deterministic), and
 * journal records are encoded with lc_record_encode from fixed resources.
 * Each seed starts with the byte its target reads first, where it reads one. */
#include <errno.h>
#include <sys/stat.h>
#include "lc_fuzz_token.h"
#include "lc_fuzz_journal.h"
#include "lc_b64.h"
#include "lc_paserk.h"

static const char *top;

static void put(const char *target, const char *name, const void *data, size_t len)
{
    char path[1024];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", top, target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
    snprintf(path, sizeof(path), "%s/%s/%s", top, target, name);
    if ((f = fopen(path, "wb")) == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* A seed: the leading byte, then text. */
static void put_text(const char *target, const char *name, int lead, const char *text)
{
    apr_pool_t *p = lc_fuzz_pool();
    size_t n = strlen(text);
    char *b = apr_palloc(p, n + 1);

    if (lead < 0) {
        put(target, name, text, n);
    }
    else {
        b[0] = (char)lead;
        memcpy(b + 1, text, n);
        put(target, name, b, n + 1);
    }
    apr_pool_destroy(p);
}

/* ---- tokens ------------------------------------------------------------------------- */

#define JWT_CLAIMS "{\"iss\":\"" LC_FUZZ_ISS "\",\"aud\":\"" LC_FUZZ_AUD "\",\"sub\":\"alice\"," \
                   "\"iat\":1699999990,\"exp\":1700003600,\"jti\":\"j1\"," \
                   "\"scope\":\"workstations.read workstations.write\"}"
#define PASETO_CLAIMS "{\"iss\":\"" LC_FUZZ_ISS "\",\"aud\":[\"" LC_FUZZ_AUD "\",\"other\"]," \
                      "\"sub\":\"bob\",\"iat\":\"2023-11-14T22:13:10Z\"," \
                      "\"nbf\":\"2023-11-14T22:13:10+00:00\",\"exp\":\"2023-11-14T23:13:20.5Z\"," \
                      "\"jti\":\"j2\",\"scp\":[\"agents.read\",\"lifecycle.admin\"]}"

static void tokens(apr_pool_t *p)
{
    lc_fuzz_keyring();
    put_text("token", "paseto", 0, lc_token_mint_paseto(p, lc_fuzz_sk, PASETO_CLAIMS, NULL));
    put_text("token", "paseto-kid", 0,
             lc_token_mint_paseto(p, lc_fuzz_sk, PASETO_CLAIMS, "{\"kid\":\"" LC_FUZZ_KID "\"}"));
    put_text("token", "jwt", 0, lc_token_mint_jwt(p, lc_fuzz_sk, NULL, JWT_CLAIMS));
    put_text("token", "jwt-kid", 0, lc_token_mint_jwt(p, lc_fuzz_sk, LC_FUZZ_KID, JWT_CLAIMS));
    put_text("token", "mint-paseto", 1, "{\"kid\":\"" LC_FUZZ_KID "\"}\n" PASETO_CLAIMS);
    put_text("token", "mint-paseto-nofooter", 1, "\n" PASETO_CLAIMS);
    put_text("token", "mint-jws", 2, "{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"" LC_FUZZ_KID
             "\"}\n" JWT_CLAIMS);
    put_text("token", "mint-jws-crit", 2, "{\"alg\":\"Ed25519\",\"typ\":\"at+jwt\",\"crit\":[\"x\"]}\n"
             JWT_CLAIMS);

    put_text("claims", "jwt", 2, JWT_CLAIMS);
    put_text("claims", "paseto", 3, PASETO_CLAIMS);
    put_text("claims", "jwt-noleeway", 6, JWT_CLAIMS);
    put_text("claims", "rfc3339", 1, "2026-11-23T04:43:48.123456-05:30");
}

static void keys(apr_pool_t *p)
{
    unsigned char pk[32];
    char paserk[LC_PASERK_SECRET_LEN + 1], *x;

    crypto_sign_ed25519_sk_to_pk(pk, lc_fuzz_sk);
    x = lc_b64url_encode(p, pk, 32);
    lc_paserk_public_encode(pk, 32, paserk, sizeof(paserk));
    put_text("keyring", "paserk", -1, apr_pstrcat(p, paserk, "\n", NULL));
    put_text("keyring", "jwk", -1, apr_psprintf(p, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\","
                                              "\"kid\":\"k1\",\"use\":\"sig\",\"alg\":\"EdDSA\"}", x));
    put_text("keyring", "jwks", -1, apr_psprintf(p, "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                                               "\"x\":\"%s\",\"kid\":\"k1\"}]}", x));
    put_text("pae", "paserk-public", -1, paserk);
    lc_paserk_secret_encode(lc_fuzz_sk, 64, paserk, sizeof(paserk));
    put_text("pae", "paserk-secret", -1, paserk);
    /* 3 pieces of 10, 4 and 0 bytes */
    put("pae", "pieces", "\x03\x0a\x04\x00v4.public.payloadfoot", 24);

    put_text("b64", "key", -1, x);
    put_text("b64", "abc", -1, "YWJj");
    put_text("b64", "edge", -1, "-_8");
}

/* ---- Redivis references, util --------------------------------------------------------- */

static void strings(void)
{
    put_text("redivis_ref", "plain", -1, "owner.workflow.notebook");
    put_text("redivis_ref", "ids", -1, "Owner.Work_Flow:w1a2.Note-Book:n93k");
    put_text("redivis_ref", "ids-only", -1, "owner.:x7g2.:n93k");
    put_text("redivis_ref", "encoded", -1, "demo%2Eimdb%20reviews%3Aw1a2.nb%C3%A9%3An93k");

    put_text("util", "path", -1, "/a/b%2Ec/stop");
    put_text("util", "time", -1, "2026-11-23T04:43:48.123456Z");
    put_text("util", "time-offset", -1, "2026-11-23t04:43:48+02:00");
    put_text("util", "id", -1, "ws-1.a_b");
    put_text("util", "number", -1, "1000");
    put_text("util", "utf8", -1, "caf\xc3\xa9 \xf0\x9f\x98\x80");
}

/* ---- JSON texts: the first byte is lc_json's flags ------------------------------------- */

static void json_texts(void)
{
    put_text("json", "object", 0, "{\"task\":\"caf\xc3\xa9 \\u00e9\",\"n\":[1,-2.5e3,true,null],"
             "\"o\":{\"a\":{}}}");
    put_text("json", "duplicates", 2, "{\"task\":\"a\",\"task\":\"b\"}");
    put_text("json", "scalar", 1, "  \"session\"  ");
    put_text("json", "python-only", 3, "[NaN, Infinity, -Infinity, 1e400]");
    put_text("json", "deep", 0, "[[[[[[[[[[[[[[[[[\"17\"]]]]]]]]]]]]]]]]]");
    put_text("json", "broken", 0, "{\"task\": \"caf\xc3\xa9\" \"x\"}");
}

/* ---- kinds: admin PUT bodies (as the Apache::Test suite sends them) --------------------- */

static void kinds(void)
{
    put_text("kind", "workstation", 0,
             "ws-1\n{\"id\":\"ws-1\",\"name\":\"Workstation ws-1\",\"status\":\"running\","
             "\"configuration\":{\"cpuCores\":8,\"memoryGB\":32,\"gpu\":\"nvidia-tesla-t4\","
             "\"storageGB\":256,\"region\":\"us-central1\"},\"owner\":\"alice\"}");
    put_text("kind", "notebook", 1,
             "owner.wf.nb_a\n{\"kind\":\"notebook\",\"id\":\"owner.wf.nb_a\",\"name\":\"NB A\","
             "\"qualifiedReference\":\"owner.wf:w1a2.nb_a:n93k\",\"referenceId\":\"n93k\","
             "\"owner\":{\"name\":\"owner\"},\"currentJob\":{\"id\":\"job-a\",\"kind\":\"notebook\","
             "\"status\":\"failed\",\"errorMessage\":\"boom\",\"startTime\":1700000000000,"
             "\"endTime\":1700000060000}}");
    put_text("kind", "notebook-queued", 1,
             "owner.wf.nb_b\n{\"id\":\"owner.wf.nb_b\",\"currentJob\":{\"status\":\"queued\"}}");
    put_text("kind", "agent", 2,
             "ag-admin-1\n{\"agent_id\":\"ag-admin-1\",\"created_at\":\"2020-01-01T00:00:00Z\","
             "\"session_id\":\"sess-adm\",\"status\":\"closed\","
             "\"closed_at\":\"2026-01-02T03:04:05.5+01:00\",\"saved\":true,\"task\":\"runner\","
             "\"url\":null,\"success\":true,\"answer\":\"42\",\"steps\":[{\"action\":\"click\"}],"
             "\"owner\":\"runner-1\"}");
    put_text("kind", "wrapper", 3,
             "wr-1\n{\"wrapper_id\":\"wr-1\",\"type\":\"api\",\"status\":\"running\","
             "\"checkpoint\":{\"high_water_mark\":\"2024-01-01T00:00:00Z\","
             "\"low_water_mark\":\"2023-12-31T00:00:00Z\"}}");
    put_text("kind", "pipeline", 4,
             "fd-adm\n{\"name\":\"fd-adm\",\"deployment_status\":\"Running\","
             "\"checkpoint_sequence_number\":7,\"runner_driven\":true}");
    put_text("kind", "pipeline-error", 4,
             "fd-err\n{\"name\":\"fd-err\",\"deployment_status\":\"Stopped\","
             "\"deployment_desired_status\":\"Stopped\",\"deployment_error\":{\"error_code\":"
             "\"RunnerError\",\"message\":\"boom\",\"details\":{}}}");
}

/* ---- journal records and segments ------------------------------------------------------ */

static lc_resource_t resource(int kind, const char *id, int state, const char *data)
{
    lc_resource_t r;

    memset(&r, 0, sizeof(r));
    r.kind = (uint8_t)kind;
    r.state = (uint8_t)state;
    r.version = 1;
    r.created = r.state_since = LC_FUZZ_NOW;
    apr_cpystrn(r.id, id, sizeof(r.id));
    apr_cpystrn(r.owner, "alice", sizeof(r.owner));
    apr_cpystrn(r.data, data, sizeof(r.data));
    return r;
}

static void journal(void)
{
    unsigned char seg[8 * LC_RECORD_MAX + 128], *at = seg + 1;
    unsigned char rec[LC_RECORD_MAX + 1];
    lc_resource_t r;
    apr_size_t n;

    r = resource(LC_KIND_WORKSTATION, "ws-1", 1, "{\"name\":\"Workstation ws-1\"}");
    n = lc_record_encode(rec + 1, 1, LC_OP_CREATE, &r);
    rec[0] = 0;
    put("record", "workstation", rec, n + 1);
    rec[0] = 1;
    put("record", "workstation-fixed", rec, n + 1);
    r = resource(LC_KIND_PIPELINE, "fd-1", 4, "{\"runner_driven\":true}");
    r.res_state = 2; r.desired = 4; r.ckpt_seq = 7; r.due_class = LC_DUE_TIMEOUT;
    r.due = LC_FUZZ_NOW + 2 * APR_USEC_PER_SEC;
    n = lc_record_encode(rec + 1, 9, LC_OP_REPORT, &r);
    rec[0] = 1;
    put("record", "pipeline", rec, n + 1);

    /* A segment: create, transition, create, delete (seq 1..4). */
    r = resource(LC_KIND_WORKSTATION, "ws-1", 0, "");
    at += lc_record_encode(at, 1, LC_OP_CREATE, &r);
    r.state = 2; r.version = 2; r.due_class = LC_DUE_ADVANCE; r.due = LC_FUZZ_NOW + 300000;
    at += lc_record_encode(at, 2, LC_OP_TRANSITION, &r);
    r = resource(LC_KIND_NOTEBOOK, "owner.wf.nb", 0, "{\"nbId\":\"n93k\"}");
    at += lc_record_encode(at, 3, LC_OP_CREATE, &r);
    r.version = 2;
    at += lc_record_encode(at, 4, LC_OP_DELETE, &r);
    seg[0] = 0;
    put("recover", "segment", seg, (size_t)(at - seg));
    seg[0] = 1;
    put("recover", "segment-fixed", seg, (size_t)(at - seg));
    /* The same with a torn last record. */
    put("recover", "segment-torn", seg, (size_t)(at - seg) - 7);

    /* A snapshot at change 4, replay from segment 2: two resources. */
    memset(seg, 0, sizeof(seg));
    at = seg + 1;
    memcpy(at, "LCSNAP1", 8);
    at[8] = 4;
    at[16] = 2;
    at += LC_FUZZ_SNAP_HEAD;
    r = resource(LC_KIND_WRAPPER, "wr-1", 1, "{\"t\":\"api\"}");
    at += lc_record_encode(at, 3, LC_OP_CREATE, &r);
    r = resource(LC_KIND_AGENT, "0b5c3f5e-1d2a-4c7e-9b1f-2a3c4d5e6f70", 0, "{\"s\":\"sess\"}");
    at += lc_record_encode(at, 4, LC_OP_CREATE, &r);
    memcpy(at, "LCSEND1", 8);
    at[8] = 2;
    at += LC_FUZZ_SNAP_TAIL;
    crypto_generichash(at - 32, 32, seg + 1, (size_t)(at - 32 - (seg + 1)), NULL, 0);
    seg[0] = 2;
    put("recover", "snapshot", seg, (size_t)(at - seg));
    seg[0] = 3;
    put("recover", "snapshot-fixed", seg, (size_t)(at - seg));
}

int main(int argc, char **argv)
{
    apr_pool_t *p;

    if (argc != 2) {
        fprintf(stderr, "usage: gen_corpus DIR\n");
        return 2;
    }
    top = argv[1];
    if (mkdir(top, 0755) != 0 && errno != EEXIST) {
        perror(top);
        return 1;
    }
    p = lc_fuzz_pool();
    tokens(p);
    keys(p);
    strings();
    json_texts();
    kinds();
    journal();
    apr_pool_destroy(p);
    return 0;
}
