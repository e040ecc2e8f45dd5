// The Lua scripts of the conformity tracker (adapters/redis/conformity_tracker.cpp).
// Internal to adapters/redis.
//
// Each state change is one script, so Redis runs it whole: no other client
// sees a query answered but still in "deadline", or a round final without
// its outcome. Scripts that return records encode them with cjson: every
// field is the hash's text, lists are JSON arrays, and an empty list comes
// out as "{}" (cjson cannot tell an empty array from an empty object).
//
// Where the keys are known to the caller (the round being opened, the query
// concluded, the timers) they are passed as KEYS. Where a script finds its
// keys in what it reads (the application of a query, a licensor's pending
// set) it builds them from the prefix in ARGV[1]: Redis Cluster would need
// every key declared, but licgate runs against one Redis, where a script may
// touch any key (docs/conformity.md, "Redis").
#pragma once

#include <string_view>

namespace licgate::adapters::redis::conformity_scripts {

// Functions the state-changing and reading scripts share. Every script that
// includes them takes ARGV[1] the key prefix ("<prefix>cf:"), ARGV[2] now
// (ms), ARGV[3] the end of the lease for what it claims; its own arguments
// start at ARGV[4].
constexpr std::string_view kLibrary = R"lua(
local P = ARGV[1]
local NOW = ARGV[2]
local LEASE_END = ARGV[3]

local function hashOf(key)
  local flat = redis.call('HGETALL', key)
  local record = {}
  for i = 1, #flat, 2 do record[flat[i]] = flat[i + 1] end
  return record
end

-- The signed document stays behind: it may be a megabyte, and no reader of
-- a QueryView needs it.
local function queryOf(id)
  local q = hashOf(P .. 'q:' .. id)
  q.query_id = id
  q.signed_document = nil
  q.late_signed_document = nil
  return q
end

local function roundOf(app)
  local r = hashOf(P .. 'app:' .. app)
  if r.application_id == nil then return nil end
  local queries = {}
  for id in string.gmatch(r.queries or '', '[^,]+') do queries[#queries + 1] = queryOf(id) end
  r.query_list = queries
  return r
end

-- registry::decideOutcome, which the C++ side cannot run inside the script:
-- for a round opened without counts (closeQuery).
local function outcomeOf(queries)
  local without_verdict = false
  for _, q in ipairs(queries) do
    if q.verdict == 'does-not-conform' then return 'does-not-conform' end
    if not q.verdict or q.verdict == '' then without_verdict = true end
  end
  if without_verdict then return 'incomplete' end
  return 'conforms'
end

-- Timer changes that finish and closeQuery make, gathered by a script that
-- makes many (deferTimers) and applied at its end (applyTimers): one
-- command per timer instead of one per query. No script reads a timer
-- after finish has changed it.
local deferred = nil

local function deferTimers()
  deferred = {added = {}, removed = {}}
end

local function listIn(map, key)
  local list = map[key]
  if list == nil then
    list = {}
    map[key] = list
  end
  return list
end

local function timerRemove(key, id)
  if deferred == nil then
    redis.call('ZREM', key, id)
    return
  end
  local ids = listIn(deferred.removed, key)
  ids[#ids + 1] = id
end

local function timerAdd(key, score, id)
  if deferred == nil then
    redis.call('ZADD', key, score, id)
    return
  end
  local members = listIn(deferred.added, key)
  members[#members + 1] = score
  members[#members + 1] = id
end

-- A command on many members in commands of a few hundred (unpack's limit
-- is the Lua stack); `words` is even for ZADD's score/member pairs.
local function inChunks(command, key, words)
  for from = 1, #words, 1000 do
    redis.call(command, key, unpack(words, from, math.min(from + 999, #words)))
  end
end

local function applyTimers()
  for key, ids in pairs(deferred.removed) do inChunks('ZREM', key, ids) end
  for key, members in pairs(deferred.added) do inChunks('ZADD', key, members) end
  deferred = nil
end

-- One query of the round became final, with `verdict` (nil when it has
-- none). The round counts the verdicts that decide its outcome as they
-- come, so that the last query decides it from the round's hash alone
-- rather than a read of every query. That last one claims the outcome at
-- once for its first delivery, so that the caller that made the round
-- final sends it and nobody else does until the lease ends. The round goes
-- to `decided` as its application id and query ids alone: the caller reads
-- the rest itself (conformity_tracker.cpp, readDecided), since every value
-- read into Lua here costs Redis more than the same value sent to a
-- client, and a decided round's queries no longer change.
local function closeQuery(app, verdict, decided)
  local key = P .. 'app:' .. app
  if verdict == 'does-not-conform' then
    redis.call('HINCRBY', key, 'not_conforming', 1)
  elseif verdict ~= 'conforms' then
    redis.call('HINCRBY', key, 'without_verdict', 1)
  end
  if redis.call('HINCRBY', key, 'open', -1) ~= 0 then return end
  local round = redis.call('HMGET', key, 'queries', 'tallied', 'not_conforming',
    'without_verdict')
  local ids = round[1] or ''
  local outcome
  if round[2] == '1' then
    if tonumber(round[3] or '0') > 0 then
      outcome = 'does-not-conform'
    elseif tonumber(round[4] or '0') > 0 then
      outcome = 'incomplete'
    else
      outcome = 'conforms'
    end
  else
    -- Opened by a version that kept no counts: its queries are read.
    local verdicts = {}
    for id in string.gmatch(ids, '[^,]+') do
      verdicts[#verdicts + 1] = {verdict = redis.call('HGET', P .. 'q:' .. id, 'verdict')}
    end
    outcome = outcomeOf(verdicts)
  end
  redis.call('HSET', key, 'outcome', outcome, 'decided_ms', NOW, 'outcome_attempts', '1')
  timerAdd(P .. 'outcome', LEASE_END, app)
  decided[#decided + 1] = app
  decided[#decided + 1] = ids
end

-- Moves a query that is not final to a final state with `fields` (which
-- name its verdict, if it has one), out of every timer.
-- A query in "sent" has left the send timer already (its delivery took it
-- out), so only the others are looked for there.
local function finish(id, q, state, fields, decided)
  local verdict = nil
  for i = 1, #fields - 1, 2 do
    if fields[i] == 'verdict' then verdict = fields[i + 1] end
  end
  redis.call('HSET', P .. 'q:' .. id, 'state', state, 'next_ms', '0', unpack(fields))
  -- The operator's list of queries that never reached their body.
  if state == 'failed' then redis.call('ZADD', P .. 'failed', NOW, id) end
  if q.state ~= 'sent' then timerRemove(P .. 'send', id) end
  -- The licensor's pending set is also the deadline timer (kExpireDue).
  timerRemove(P .. 'pending:' .. q.licensor, id)
  closeQuery(q.application, verdict, decided)
end

local function isSending(q)
  return q.state == 'sending' or q.state == 'retrying'
end

-- Only the named fields of a query: a state change reads a few of a dozen
-- (HGETALL of every query touched cost more than the change itself).
local function fieldsOf(key, names)
  local values = redis.call('HMGET', key, unpack(names))
  local q = {}
  for i, name in ipairs(names) do
    if values[i] then q[name] = values[i] end
  end
  return q
end
)lua";

// KEYS: send. ARGV[4]: the limit. Returns the claimed queries, each with
// its application's hash as "request". A member whose query is no longer
// sending (answered while a send was under way, say) is dropped: it has
// nothing left to send.
constexpr std::string_view kClaimSends = R"lua(
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', NOW, 'LIMIT', 0, tonumber(ARGV[4]))
local claimed, requests = {}, {}
for _, id in ipairs(due) do
  local q = queryOf(id)
  if isSending(q) then
    redis.call('ZADD', KEYS[1], LEASE_END, id)
    local request = requests[q.application]
    if request == nil then
      request = hashOf(P .. 'app:' .. q.application)
      requests[q.application] = request
    end
    q.request = request
    claimed[#claimed + 1] = q
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return cjson.encode(claimed)
)lua";

// ARGV[4..]: per result its query id, kind ("delivered", "retry",
// "permanent"), error and retry time. Attempts count sends made, so every
// known query counts the send even when its state has moved on. Returns
// the rounds made final, as closeQuery gives them.
constexpr std::string_view kSettleSends = R"lua(
local decided, delivered = {}, {}
deferTimers()
for at = 4, #ARGV, 4 do
  local id, kind, err, retry_at = ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3]
  local key = P .. 'q:' .. id
  -- Most sends are delivered, which needs two fields; the rest only when
  -- the query must be retried or failed.
  local q = fieldsOf(key, {'state', 'attempts'})
  if q.state ~= nil and isSending(q) and kind ~= 'delivered' then
    for name, value in pairs(fieldsOf(key, {'deadline_ms', 'max_attempts', 'licensor',
        'application'})) do
      q[name] = value
    end
  end
  if q.state ~= nil then
    -- The count goes with whatever else the send changes: one write.
    local attempts = tonumber(q.attempts or '0') + 1
    if not isSending(q) then
      -- A conclusion or the deadline came first: the send only counts.
      redis.call('HSET', key, 'attempts', attempts)
    elseif kind == 'delivered' then
      redis.call('HSET', key, 'state', 'sent', 'next_ms', '0', 'attempts', attempts)
      delivered[#delivered + 1] = id
    elseif kind == 'permanent' then
      finish(id, q, 'failed', {'last_error', err, 'attempts', attempts}, decided)
    elseif tonumber(retry_at) >= tonumber(q.deadline_ms) then
      finish(id, q, 'failed',
        {'last_error', 'the deadline comes before the next attempt: ' .. err,
         'attempts', attempts}, decided)
    elseif attempts >= tonumber(q.max_attempts) then
      finish(id, q, 'failed',
        {'last_error', 'gave up after ' .. attempts .. ' attempts: ' .. err,
         'attempts', attempts}, decided)
    else
      redis.call('HSET', key, 'state', 'retrying', 'next_ms', retry_at, 'last_error', err,
        'attempts', attempts)
      redis.call('ZADD', P .. 'send', retry_at, id)
    end
  end
end
inChunks('ZREM', P .. 'send', delivered)
applyTimers()
return decided
)lua";

// The intake's calls of one batch: rounds to open, then conclusions to
// record, in one script, so that a batch costs Redis one call and its
// rounds' timers one command per timer rather than one per round.
//
// KEYS: send, licensors; per round its app hash, its licensor's pending
// set and its query hashes; per conclusion its query's hash. ARGV[4]: the
// number of rounds, ARGV[5] of conclusions; per round the request's
// fingerprint, the end of its sends' lease, its number K of queries, the
// number N of the app's words and M of each query's, the app's N
// field/value words, then per query its id, its deadline and its M words;
// per conclusion: body, verdict, reasons (JSON), signer, signed document,
// fingerprint, query id.
//
// Returns one answer per call, in order. A round's is "opened",
// "duplicate" or "conflict". A conclusion's is the result's name alone
// ("accepted", "duplicate", "late", "unknown", "conflict"); for a wrong
// body or a late conclusion recorded now, JSON {result, recorded_body,
// application}; for a conclusion that made its round final, the list
// {"accepted", application id, query ids} (closeQuery): most conclusions
// need nothing read back. A late conclusion is kept apart (late_*) so that
// what the deadline decided, and the outcome built on it, never change. A
// call that fails answers with its error and the others still run, as they
// would one script each.
constexpr std::string_view kIntake = R"lua(
-- The licensor's pending set, by deadline, is the deadline timer as well:
-- the licensors set names every such set (`pending_sets`, added once for
-- the batch), for kExpireDue to walk. The round's timers are deferred, to
-- be added with the batch's others.
local function openRound(k, at, pending_sets)
  local existing = redis.call('HGET', KEYS[k], 'fingerprint')
  if existing then
    if existing == ARGV[at] then return 'duplicate' end
    return 'conflict'
  end
  local lease_end, count = ARGV[at + 1], tonumber(ARGV[at + 2])
  local n, m = tonumber(ARGV[at + 3]), tonumber(ARGV[at + 4])
  redis.call('HSET', KEYS[k], unpack(ARGV, at + 5, at + 4 + n))
  pending_sets[KEYS[k + 1]] = true
  local w = at + 5 + n
  for i = 1, count do
    local id = ARGV[w]
    redis.call('HSET', KEYS[k + 1 + i], unpack(ARGV, w + 2, w + 1 + m))
    timerAdd(KEYS[1], lease_end, id)
    timerAdd(KEYS[k + 1], ARGV[w + 1], id)
    w = w + 2 + m
  end
  return 'opened'
end

local function conclude(key, at)
  local q = fieldsOf(key, {'state', 'body', 'fingerprint', 'late_fingerprint', 'licensor',
    'application'})
  local body, verdict, reasons, signer, document = ARGV[at], ARGV[at + 1], ARGV[at + 2],
    ARGV[at + 3], ARGV[at + 4]
  local fingerprint = ARGV[at + 5]
  if q.state == nil then return 'unknown' end
  if q.body ~= body then
    return cjson.encode({result = 'wrong-body', recorded_body = q.body})
  end
  if q.state == 'answered' then
    if q.fingerprint == fingerprint then return 'duplicate' end
    return 'conflict'
  end
  if q.state == 'expired' or q.state == 'failed' then
    local late = q.late_fingerprint or ''
    if late == '' then
      redis.call('HSET', key, 'late_verdict', verdict, 'late_reasons', reasons,
        'late_signer', signer, 'late_signed_document', document, 'late_ms', NOW,
        'late_fingerprint', fingerprint)
      -- Recorded now: the caller adds it to the register's copy of the round.
      return cjson.encode({result = 'late', application = q.application})
    elseif late ~= fingerprint then
      return 'conflict'
    end
    return 'late'
  end
  local decided = {}
  finish(ARGV[at + 6], q, 'answered', {'verdict', verdict, 'tacit', '0', 'reasons', reasons,
    'signer', signer, 'signed_document', document, 'fingerprint', fingerprint,
    'concluded_ms', NOW}, decided)
  if decided[1] == nil then return 'accepted' end
  return {'accepted', decided[1], decided[2]}
end

-- A call's error becomes its answer: Redis gives a failed command's error
-- as a table with `err`, a script's own as text.
local function run(answers, f, ...)
  local ok, answer = pcall(f, ...)
  if ok then
    answers[#answers + 1] = answer
  elseif type(answer) == 'table' and answer.err then
    answers[#answers + 1] = answer
  else
    answers[#answers + 1] = {err = tostring(answer)}
  end
end

local answers = {}
local pending_sets = {}
local k, at = 3, 6
deferTimers()
for _ = 1, tonumber(ARGV[4]) do
  local count, n, m = tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3]), tonumber(ARGV[at + 4])
  run(answers, openRound, k, at, pending_sets)
  k = k + 2 + count
  at = at + 5 + n + count * (2 + m)
end
-- The rounds' timers before any conclusion: a conclusion takes its query
-- out of them, which must come after the query went in.
applyTimers()
local named = {}
for pending in pairs(pending_sets) do named[#named + 1] = pending end
if #named > 0 then redis.call('SADD', KEYS[2], unpack(named)) end
deferTimers()
for _ = 1, tonumber(ARGV[5]) do
  run(answers, conclude, KEYS[k], at)
  k = k + 1
  at = at + 7
end
applyTimers()
return answers
)lua";

// KEYS: licensors, and the "deadline" set of earlier versions. ARGV[4]:
// the limit; ARGV[5]: the tacit consent's reasons (JSON). The deadlines
// due are found in the licensors' pending sets, which hold every query not
// final by its deadline (a separate deadline set would repeat them at two
// commands a query). A body that never took the query cannot be taken to
// consent (docs/conformity.md, step 6), so only a sent query gets the
// tacit verdict. Returns the rounds made final, as closeQuery gives them.
constexpr std::string_view kExpireDue = R"lua(
local limit = tonumber(ARGV[4])
-- A Redis written by a version with a deadline set: its queries' pending
-- sets join the licensors set, a batch a call, and the old set goes.
local old = redis.call('ZRANGE', KEYS[2], 0, limit - 1)
for _, id in ipairs(old) do
  local licensor = redis.call('HGET', P .. 'q:' .. id, 'licensor')
  if licensor then redis.call('SADD', KEYS[1], P .. 'pending:' .. licensor) end
  redis.call('ZREM', KEYS[2], id)
end
local due = {}
for _, pending in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if #due >= limit then break end
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', pending, '-inf', NOW, 'LIMIT', 0, limit - #due)) do
    due[#due + 1] = {id, pending}
  end
end
local decided = {}
deferTimers()
for _, entry in ipairs(due) do
  local id = entry[1]
  local q = queryOf(id)
  if q.state == 'sent' and q.consent == '1' then
    finish(id, q, 'expired', {'verdict', 'conforms', 'tacit', '1', 'reasons', ARGV[5],
      'concluded_ms', NOW}, decided)
  elseif q.state == 'sent' then
    finish(id, q, 'expired', {'concluded_ms', NOW}, decided)
  elseif isSending(q) then
    -- The last send's error, when there was one, says why it never got
    -- through.
    local why = 'the deadline passed before the body took the query'
    if (q.last_error or '') ~= '' then why = why .. ': ' .. q.last_error end
    finish(id, q, 'failed', {'last_error', why, 'concluded_ms', NOW}, decided)
  else
    timerRemove(entry[2], id)
  end
end
applyTimers()
return decided
)lua";

// KEYS: outcome. ARGV[4]: the limit. Returns the claimed rounds; a member
// whose round is gone, undecided or delivered is dropped.
constexpr std::string_view kClaimOutcomes = R"lua(
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', NOW, 'LIMIT', 0, tonumber(ARGV[4]))
local claimed = {}
for _, app in ipairs(due) do
  local r = roundOf(app)
  if r == nil or (r.outcome or '') == '' or (r.delivered_ms or '') ~= '' then
    redis.call('ZREM', KEYS[1], app)
  else
    redis.call('ZADD', KEYS[1], LEASE_END, app)
    r.outcome_attempts = tostring(redis.call('HINCRBY', P .. 'app:' .. app, 'outcome_attempts', 1))
    claimed[#claimed + 1] = r
  end
end
return cjson.encode(claimed)
)lua";

// KEYS: outcome, failed, then each application's hash. ARGV: now, how long
// a delivered round stays (ms, 0: for ever), the key prefix
// ("<prefix>cf:"), then per application, in the order of the hashes, its
// id, the number of its queries and their ids. A delivered round's hashes
// expire after that time (the register keeps the round), and the failed
// queries listed longer than that leave the operator's list.
constexpr std::string_view kOutcomesDelivered = R"lua(
local keep = tonumber(ARGV[2])
local rounds, at = {}, 4
for i = 3, #KEYS do
  local n = tonumber(ARGV[at + 1])
  rounds[#rounds + 1] = {key = KEYS[i], app = ARGV[at], first = at + 2, last = at + 1 + n}
  at = at + 2 + n
end
-- The timer is read and trimmed for a few hundred rounds a command (unpack's
-- limit is the Lua stack), not a command a round.
for from = 1, #rounds, 500 do
  local to = math.min(from + 499, #rounds)
  local apps = {}
  for i = from, to do apps[#apps + 1] = rounds[i].app end
  local scores = redis.call('ZMSCORE', KEYS[1], unpack(apps))
  local marked = {}
  for i = from, to do
    -- Only a round still in the timer is marked: one removed meanwhile (by
    -- the operator) is not brought back as a stray hash.
    if scores[i - from + 1] then
      local round = rounds[i]
      marked[#marked + 1] = round.app
      redis.call('HSET', round.key, 'delivered_ms', ARGV[1])
      if keep > 0 then
        redis.call('PEXPIRE', round.key, keep)
        for j = round.first, round.last do
          redis.call('PEXPIRE', ARGV[3] .. 'q:' .. ARGV[j], keep)
        end
      end
    end
  end
  if #marked > 0 then redis.call('ZREM', KEYS[1], unpack(marked)) end
end
if keep > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (tonumber(ARGV[1]) - keep))
end
return 1
)lua";

// KEYS: outcome, the application's hash. ARGV: application id, due time,
// error. An outcome delivered meanwhile (by another process whose lease
// ran out under this one) stays delivered.
constexpr std::string_view kOutcomeRetry = R"lua(
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], 'outcome_error', ARGV[3])
return 1
)lua";

// KEYS: outcome, the application's hash, refused. ARGV: application id,
// now, error. The licensor's system refused the outcome for good: it
// leaves the timer for the operator's list of refused outcomes, where it
// waits for a resend. One delivered or refused meanwhile (by another
// process) is left as it is. Returns 1 when it moved.
constexpr std::string_view kOutcomeRefused = R"lua(
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], 'outcome_error', ARGV[3], 'refused_ms', ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
return 1
)lua";

// KEYS: refused, outcome, the application's hash. ARGV: application id,
// now. A refused outcome due again at once; its attempts go on counting.
// Returns 0 when the application has no refused outcome.
constexpr std::string_view kResendOutcome = R"lua(
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[3], 'refused_ms')
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
)lua";

// KEYS: refused. ARGV: the limit, the key prefix ("<prefix>cf:"). Returns the refused outcomes, the
// latest refusal first, each with the fields the operator's list shows.
constexpr std::string_view kRefusedOutcomes = R"lua(
local ids = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
local list = {}
for _, app in ipairs(ids) do
  local v = redis.call('HMGET', ARGV[2] .. 'app:' .. app, 'licensor', 'outcome', 'outcome_error',
    'outcome_attempts', 'refused_ms')
  list[#list + 1] = {application_id = app, licensor = v[1] or '', outcome = v[2] or '',
    outcome_error = v[3] or '', outcome_attempts = v[4] or '0', refused_ms = v[5] or '0'}
end
return cjson.encode(list)
)lua";

// KEYS: licensors. Returns how many queries are not final: the members of
// the licensors' pending sets.
constexpr std::string_view kOpenQueries = R"lua(
local n = 0
for _, pending in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  n = n + redis.call('ZCARD', pending)
end
return n
)lua";

// ARGV[4]: the application id. Returns its round, or nil. One script so
// that the round is read as it stands at one moment.
constexpr std::string_view kRound = R"lua(
local r = roundOf(ARGV[4])
if r == nil then return false end
return cjson.encode(r)
)lua";

// KEYS: the licensor's pending set, or the failed set. ARGV[4]: the limit;
// ARGV[5]: "first" (lowest score first: the earliest deadline) or "last"
// (highest first: the latest failure).
constexpr std::string_view kPending = R"lua(
local ids
if ARGV[5] == 'last' then
  ids = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[4]) - 1)
else
  ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[4]) - 1)
end
local queries = {}
for _, id in ipairs(ids) do
  local q = queryOf(id)
  if q.state ~= nil then queries[#queries + 1] = q end
end
return cjson.encode(queries)
)lua";

}  // namespace licgate::adapters::redis::conformity_scripts
