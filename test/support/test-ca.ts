/**
 * A throw-away certificate authority for wss:// tests, made with openssl in a
 * temporary directory: a CA, and a server certificate it signs whose only
 * subjectAltName is DNS:localhost (no IP address), as a real exchange's
 * certificate names the exchange by host name (RFC 6125 §6.4). A client that
 * checks host names therefore accepts wss://localhost and refuses
 * wss://127.0.0.1 for the same server.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCa {
  /** The CA certificate (PEM): what a phone's `caFile` points at. */
  caFile: string;
  /** The server certificate (PEM), signed by the CA, SAN DNS:localhost. */
  cert: string;
  /** The server certificate's private key (PEM, unencrypted). */
  key: string;
  /** A second CA that signed nothing here: trusting it must fail. */
  otherCaFile?: string;
  cleanup(): void;
}

function openssl(args: string[]): void {
  execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
}

/** openssl req's words for a new P-256 key, unencrypted, written to `key`. */
const newP256Key = (key: string) => [
  "-newkey",
  "ec",
  "-pkeyopt",
  "ec_paramgen_curve:prime256v1",
  "-nodes",
  "-keyout",
  key,
];

function makeCa(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}-key.pem`);
  openssl([
    "req",
    "-x509",
    ...newP256Key(key),
    "-out",
    cert,
    "-days",
    "2",
    "-subj",
    `/CN=deskphone test ${name}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  return { cert, key };
}

export function createTestCa(opts: { otherCa?: boolean; dnsName?: string } = {}): TestCa {
  const dir = mkdtempSync(join(tmpdir(), "deskphone-ca-"));
  const dnsName = opts.dnsName ?? "localhost";
  try {
    const ca = makeCa(dir, "ca");
    const key = join(dir, "server-key.pem");
    const csr = join(dir, "server.csr");
    const cert = join(dir, "server.pem");
    const ext = join(dir, "server.ext");
    openssl(["req", ...newP256Key(key), "-out", csr, "-subj", `/CN=${dnsName}`]);
    writeFileSync(
      ext,
      `subjectAltName=DNS:${dnsName}\nbasicConstraints=CA:FALSE\n` +
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    );
    openssl([
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      ca.cert,
      "-CAkey",
      ca.key,
      "-CAcreateserial",
      "-out",
      cert,
      "-days",
      "2",
      "-extfile",
      ext,
    ]);
    const other = opts.otherCa ? makeCa(dir, "other-ca") : undefined;
    return {
      caFile: ca.cert,
      cert,
      key,
      ...(other && { otherCaFile: other.cert }),
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    const err = e as Error & { stderr?: Buffer };
    throw new Error(`test CA: openssl failed: ${String(err.stderr ?? err.message).trim()}`);
  }
}
