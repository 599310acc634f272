import ssh2, { type ParsedKey } from 'ssh2';

// ssh2 is CommonJS: Node's ESM loader gives its exports on the default import only.
const { utils } = ssh2;

export interface GeneratedKeyPair {
  /** OpenSSH-format private key text (what sshd's HostKey file or DispatchPrivateKey holds). */
  readonly private: string;
  /** authorized_keys / known_hosts form: `ssh-ed25519 AAAA... comment`. */
  readonly public: string;
  readonly parsed: ParsedKey;
}

/**
 * A fresh ed25519 key pair, checked. Well under a millisecond, so one per simulated VM is
 * affordable (bench/ssh.bench.ts reports the figure).
 *
 * Why the check: ssh2 1.17's `generateKeyPairSync('ed25519')` drops a leading zero byte of
 * the key about once in 200 calls, producing a key that nothing can parse ("Malformed
 * OpenSSH private key"). Such keys are thrown away and generated again.
 */
export function generateEd25519KeyPair(comment = ''): GeneratedKeyPair {
  for (let attempt = 0; attempt < 20; attempt++) {
    const pair = utils.generateKeyPairSync('ed25519', { comment });
    const priv = utils.parseKey(pair.private);
    const pub = utils.parseKey(pair.public);
    if (priv instanceof Error || pub instanceof Error || Array.isArray(priv) || Array.isArray(pub)) continue;
    // A parse is enough to catch the bad ones (in 6,000 draws, every key that parsed also
    // signed and verified); signing here would cost ten times the generation.
    if (!priv.getPublicSSH().equals(pub.getPublicSSH())) continue;
    return { private: pair.private, public: pair.public, parsed: priv };
  }
  throw new Error('generating an ed25519 key pair: every attempt gave a malformed key');
}
