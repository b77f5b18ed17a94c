"""Time and peak memory of one solvency proof (no inclusion openings) at 2^k rows of random balances.

    .venv/bin/python benches/solvency_proof_memory.py 20
"""

import numpy as np, time, resource, sys
from zksolvency.circuits.solvency import SolvencyShape, SolvencyCircuit
from zksolvency.prover.field import Fr
from zksolvency.prover.plonk import keygen, prove_with_polynomials
from zksolvency.prover.srs import dev_setup
k=int(sys.argv[1])
rng=np.random.default_rng(1)
shape=SolvencyShape(k); c=SolvencyCircuit(shape); n=shape.n
rows=n
h=Fr.to_canonical_limbs(Fr.random(rows,rng)); a=rng.integers(0,8,size=(rows,4)).astype(np.uint32); u=rng.integers(0,1<<40,size=(rows,4),dtype=np.uint64); u[a==0]=0
tot=[int(u[a==j].astype(object).sum()) for j in range(1,8)]
srs=dev_setup(k)
w=c.witness(h,a,u)
pk=keygen(c.cs,k,srs,c.fixed)
t=time.time(); proof,polys=prove_with_polynomials(pk,w,[1]+tot); dt=time.time()-t
print(f"solvency 2^{k}: prove {dt:.1f} s, proof {len(proof)} bytes, peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024:.0f} MB", flush=True)
