#!lua name=moneybank
-- The Money Bank's Redis function library: the only Lua the application's
-- Redis user may run (FCALL; it may not run EVAL or load functions). Redis
-- keeps it in its AOF and RDB once loaded. It is loaded, as a user other
-- than the application's, by k8s/redis-load-functions.sh: under Kubernetes
-- the Redis pod's readiness probe, locally right after each Redis starts.
-- The programs (cgi-bin/store.c) call its functions by name; what their
-- replies mean is in cgi-bin/deposit.c.
--
-- Neither function declares flags, so Redis treats both as functions that
-- may write: it refuses FCALL of them up front, before any of it runs, in
-- every state in which it refuses a write (OOM with nothing left to evict,
-- MISCONF, READONLY, NOREPLICAS), as it refuses INCRBY itself.
--
-- Every error reply of deposit means that nothing changed:
-- - the amount and the record's lifetime are checked before anything else
--   (the programs send only valid ones; anyone else with the app's
--   credentials might not);
-- - the reads that precede the first write can fail only on an ACL (their
--   WRONGTYPE is an answer, not an error: see read below);
-- - INCRBY is the first write: it fails whole or not at all;
-- - once a function has written, Redis lets its later writes run whatever
--   its state, and only an ACL can still refuse the SET of the record, so
--   that is checked (redis.acl_check_cmd) before the INCRBY.

-- The largest total the bank holds: 2^53 - 1, TOTAL_MAX in
-- cgi-bin/deposit.h (the suites' 409 tests hold the two together).
local TOTAL_MAX = 9007199254740991

-- The answers, the first element of deposit's {answer, value} reply
-- (enum deposit_answer in cgi-bin/deposit.c).
local DEPOSITED = 0         -- {0, new total}
local REPLAYED = 1          -- the key was seen with this amount: {1, 0}
local KEY_REUSED = 2        -- the key was seen with another amount: {2, 0}
local PAST_TOTAL_MAX = 3    -- {3, room}: the largest amount that fits, >= 0
local TOTAL_NOT_INTEGER = 4 -- the total is no integer, or no string
local RECORD_DAMAGED = 5    -- the key's record is no string, or never expires

-- Returns a key's value (false when there is none), or nil and true when the
-- key holds another type than a string: only this library writes these keys,
-- so that is damage for an operator to repair, not a refusal. Any other error
-- (an ACL) is raised as it came.
local function read(key)
  local value = redis.pcall('GET', key)
  if type(value) ~= 'table' then return value end
  if string.find(value.err, '^WRONGTYPE') then return nil, true end
  return error(value)
end

-- Checks an Idempotency-Key's record: returns an answer when the deposit
-- must not run (seen before, or damaged), or an error reply when the record
-- could not be written afterwards, else nil. A record with no expiry (PTTL
-- -1) is damaged: deposit always sets one, so only a direct SET makes such a
-- record, and honouring it would answer a real deposit with that key
-- "already done" for ever.
local function check_record(key, amount, ttl)
  local seen, damaged = read(key)
  if damaged then return {RECORD_DAMAGED, 0} end
  if seen then
    if redis.call('PTTL', key) == -1 then return {RECORD_DAMAGED, 0} end
    if seen == amount then return {REPLAYED, 0} end
    return {KEY_REUSED, 0}
  end
  if not redis.acl_check_cmd('SET', key, amount, 'EX', ttl) then
    return redis.error_reply('NOPERM this user may not record idempotency keys')
  end
  return nil
end

-- Succeeds when text is a whole number from 1 to 2^53 - 1 written in plain
-- decimal digits, as the programs send amounts and lifetimes.
local function positive_whole(text)
  return type(text) == 'string' and string.find(text, '^[1-9]%d*$') ~= nil
    and #text <= 16 and tonumber(text) <= TOTAL_MAX
end

-- FCALL deposit 1 TOTAL_KEY AMOUNT, or FCALL deposit 2 TOTAL_KEY RECORD_KEY
-- AMOUNT TTL_SECONDS: adds the amount unless the total would pass TOTAL_MAX,
-- once per record key. The limit is compared as amount > room, the room left
-- being TOTAL_MAX - total, which Lua's doubles hold exactly for a total from
-- 0 to TOTAL_MAX (elsewhere they round only far from any amount the API
-- accepts). A deposit that does not fit gets the room back, so that the
-- client learns the largest amount that still does.
local function deposit(keys, args)
  local amount, ttl = args[1], args[2]
  if not positive_whole(amount) then
    return redis.error_reply('ERR deposit: the amount must be a whole number from 1 to 2^53-1')
  end
  if keys[2] and not positive_whole(ttl) then
    return redis.error_reply('ERR deposit: the record lifetime must be a whole number of seconds from 1')
  end
  if keys[2] then
    local refused = check_record(keys[2], amount, ttl)
    if refused then return refused end
  end
  local stored, wrong_type = read(keys[1])
  if wrong_type or (stored and not string.find(stored, '^%-?%d+$')) then
    return {TOTAL_NOT_INTEGER, 0}
  end
  local room = TOTAL_MAX - tonumber(stored or '0')
  if tonumber(amount) > room then
    return {PAST_TOTAL_MAX, math.max(room, 0)}
  end
  local total = redis.call('INCRBY', keys[1], amount)
  if keys[2] then redis.call('SET', keys[2], amount, 'EX', ttl) end
  return {DEPOSITED, total}
end

-- FCALL writable 0: does nothing, but as a function that may write it is
-- refused up front in every state in which deposit would be, and answers 1
-- otherwise: /healthz asks whether Redis takes deposits without writing.
local function writable()
  return 1
end

redis.register_function('deposit', deposit)
redis.register_function('writable', writable)
