// Prints the accounts to re-index as JSON Lines: stands in for a query against a replica.
for (let i = 1; i <= 50; i += 1) {
  process.stdout.write(JSON.stringify({ account: `acct_${String(i).padStart(4, '0')}`, region: i % 3 ? 'eu' : 'us' }) + '\n');
}
