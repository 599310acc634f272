/**
 * The EC2 quota group an instance type draws from, as Arvados computes it
 * (lib/cloud/ec2/ec2.go `InstanceQuotaGroup`): the lowercased ProviderType's leading
 * alphabetic run ("trn1.2xlarge" -> "trn"), unless `groups` maps a prefix of the
 * ProviderType at least that long, in which case the longest such prefix's group wins
 * ("p5.xlarge" -> "p5", "m1.xlarge" -> "standard"). Spot types get "-spot" appended, because
 * AWS counts spot vCPUs against separate quotas.
 */
export function ec2QuotaGroup(
  providerType: string,
  preemptible: boolean,
  groups: Readonly<Record<string, string>>,
): string {
  const pt = providerType.toLowerCase();
  const family = /^[a-z]*/.exec(pt)?.[0] ?? '';
  let group = family;
  let best = -1;
  for (const [prefix, name] of Object.entries(groups)) {
    const p = prefix.toLowerCase();
    if (p.length >= family.length && p.length > best && pt.startsWith(p)) {
      best = p.length;
      group = name;
    }
  }
  return preemptible ? `${group}-spot` : group;
}
