import { DescribeKeyPairsCommand, ImportKeyPairCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { ec2KeyFingerprints, parseSshPublicKey } from './key-fingerprint.js';

/**
 * Finds or imports the EC2 key pair holding the dispatcher's public key, named by its
 * fingerprint (`arvados-dispatch-keypair-<fingerprint>`) so that every dispatcher with the
 * same key shares one key pair, as in Arvados.
 *
 * Unlike Arvados, a key pair found by DescribeKeyPairs is cached too (Arvados looks it up
 * again on every create); `forget()` drops the cache when EC2 says the key pair is gone.
 */
export class KeyPairs {
  private readonly names = new Map<string, string>();

  constructor(private readonly client: EC2Client) {}

  /**
   * The key pair name for an `authorized_keys` line.
   * @throws the SDK's error (the caller classifies it) or "parsing public key: ..."
   */
  async nameFor(publicKey: string): Promise<string> {
    const key = parseSshPublicKey(publicKey);
    const cached = this.names.get(key.line);
    if (cached !== undefined) return cached;
    const fingerprints = ec2KeyFingerprints(key);
    const found = await this.client.send(
      new DescribeKeyPairsCommand({ Filters: [{ Name: 'fingerprint', Values: fingerprints }] }),
    );
    let name = found.KeyPairs?.find((k) => k.KeyName !== undefined && k.KeyName !== '')?.KeyName;
    if (name === undefined) {
      name = `arvados-dispatch-keypair-${fingerprints[0] ?? ''}`;
      await this.client.send(new ImportKeyPairCommand({ KeyName: name, PublicKeyMaterial: Buffer.from(key.line) }));
    }
    this.names.set(key.line, name);
    return name;
  }

  forget(): void {
    this.names.clear();
  }
}
