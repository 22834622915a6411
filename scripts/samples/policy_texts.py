"""The sample policies' texts, written for cope-eval (original wording), in Zentropi's structure.

Each version is a complete document, as the policy store keeps it: a second version repeats its
parent with the clauses it narrows or broadens changed, so diffs between them show just that.
Used by scripts/build_samples.py (scripts/samples/).
"""

DRUGS_V1 = """# Criteria

## Overview

This policy identifies content that promotes, facilitates or instructs the use, production or
sale of illegal drugs, or the non-medical use of prescription drugs. It is meant for a general
audience platform where talking about drugs is allowed, but helping people obtain or misuse them
is not.

## Definition of Terms

- **Illegal drug**: a substance whose possession or sale is prohibited for recreational use,
  such as heroin, cocaine, methamphetamine, MDMA or illicitly made fentanyl.
- **Prescription drug misuse**: taking a prescription medicine without a prescription, in larger
  doses than prescribed, or to get high (for example opioids, benzodiazepines, stimulants).
- **Facilitation**: anything that makes getting, making or using a drug easier: sale offers,
  vendor contacts, prices, recipes, dosing or concealment advice.

## Interpretation of Language

- Read slang and coded terms for drugs and dealing ("plug", "snow", "bars", "zaza", emoji used
  as product names) as references to drugs when the context is buying, selling or using.
- A question asking how to obtain or make a drug counts as seeking facilitation.
- Mentioning a drug is not enough: the content must encourage, enable or celebrate its use.

## Definition of Label

### Drug Content (DR)

#### Includes

- Offers to buy, sell, trade or deliver illegal drugs or prescription drugs without a
  prescription, including prices, menus and contact details.
- Instructions or recipes for producing, extracting or concentrating illegal drugs.
- Advice on recreational dosing, combining drugs, or hiding drug use from tests, parents or
  police.
- Content that glorifies heavy drug use or urges others to try illegal drugs.

#### Excludes

- Harm reduction and health information, such as overdose signs, naloxone use or the risks of
  mixing substances.
- News, research, history and policy debate about drugs, including arguments for legalization.
- Personal stories of addiction or recovery that do not give acquisition or use instructions.
- Legal substances used legally, such as alcohol, tobacco, caffeine, or medicine taken as
  prescribed.
- Fiction, song lyrics and jokes that mention drugs without giving practical help.
"""

HARASSMENT_V1 = """# Criteria

## Overview

This policy identifies harassment: content that attacks, intimidates or degrades a specific
person or a small group of people. It protects individuals, not ideas or institutions.

## Definition of Terms

- **Target**: a person or small group the content is aimed at, identified by name, username,
  photo, a reply or mention, or by being addressed as "you".
- **Degrading content**: insults, mockery of appearance or circumstances, and sexual remarks
  made without consent.
- **Pile-on**: asking or encouraging others to contact, report, mock or follow a target.

## Interpretation of Language

- Judge how a reasonable target would read the message, not what the author says they meant.
- Insults in a reply are aimed at the person being replied to unless the context clearly says
  otherwise.
- Emoji, memes and misspellings that carry an insult count the same as the words they stand for.

## Definition of Label

### Harassment (HR)

#### Includes

- Insults, name-calling or mockery aimed at a person or small group.
- Threats, intimidation or wishes that harm comes to a target.
- Unwanted sexual remarks or advances directed at a target.
- Sharing or threatening to share a target's private information, such as an address, phone
  number or workplace.
- Calls for others to pile on, stalk or keep contacting a target.

#### Excludes

- Criticism of a public figure's actions, statements or policies, without insults or threats.
- Quoting or reporting harassment in order to condemn it or ask for help.
- Self-deprecating jokes about oneself.
- Rudeness that is not aimed at any particular person.
"""

HARASSMENT_V2 = """# Criteria

## Overview

This policy identifies harassment: content that attacks, intimidates or degrades a specific,
identifiable person. It protects individuals, not ideas, institutions or broad groups.

## Definition of Terms

- **Target**: an identifiable person, named, tagged, pictured, replied to, or addressed as
  "you" in a reply to them. A broad group of strangers ("people who drive slowly") is not a
  target under this policy.
- **Degrading content**: insults, mockery of appearance or circumstances, and sexual remarks
  made without consent.
- **Pile-on**: asking or encouraging others to contact, report, mock or follow a target.

## Interpretation of Language

- Judge how a reasonable target would read the message, not what the author says they meant.
- Insults in a reply are aimed at the person being replied to unless the context clearly says
  otherwise.
- Emoji, memes and misspellings that carry an insult count the same as the words they stand for.

## Definition of Label

### Harassment (HR)

#### Includes

- Insults, name-calling or mockery aimed at an identifiable person.
- Threats, intimidation or wishes that harm comes to a target.
- Unwanted sexual remarks or advances directed at a target.
- Sharing or threatening to share a target's private information, such as an address, phone
  number or workplace.
- Calls for others to pile on, stalk or keep contacting a target.

#### Excludes

- Criticism of a public figure's actions, statements or policies, without insults or threats.
- Quoting or reporting harassment in order to condemn it or ask for help.
- Self-deprecating jokes about oneself.
- Rudeness that is not aimed at any particular person.
- Heated disagreement about ideas, where the insult is aimed at the argument ("that take is
  ridiculous") rather than at the person.
- Generalizations about broad groups of strangers; hateful attacks on protected groups are
  covered by the hate speech policy.
"""

HATE_V1 = """# Criteria

## Overview

This policy identifies hate speech: content that attacks people because of a protected
characteristic. It covers attacks on people, not criticism of beliefs, institutions or
governments.

## Definition of Terms

- **Protected characteristic**: race, ethnicity, national origin, caste, religion, sex, gender
  identity, sexual orientation, disability or serious disease.
- **Protected group**: people who share a protected characteristic, or a person singled out for
  having it.
- **Dehumanizing language**: describing people as animals, insects, filth, disease or objects,
  or as less than human.

## Interpretation of Language

- A slur used to describe or address someone counts as an attack, even in a casual tone.
- Statements about "them" or "those people" count when the context makes clear that a
  protected group is meant.
- Jokes count when their point is that a protected group is inferior, dirty, dangerous or
  deserves mistreatment.

## Definition of Label

### Hate Speech (HS)

#### Includes

- Dehumanizing language about a protected group.
- Slurs used to demean or insult people for a protected characteristic.
- Claims that a protected group is inferior, criminal by nature, or a threat to others.
- Calls to exclude, segregate, expel or deny rights to a protected group.
- Praise or celebration of violence or atrocities committed against a protected group.

#### Excludes

- Counter-speech that quotes hateful content to condemn or report it.
- News, education and research about discrimination and hate, without endorsing it.
- Criticism of a religion, ideology or government as a set of ideas or actions, without
  attacking the people who belong to it.
- Insults based on characteristics that are not protected, such as profession, political party
  or favorite sports team.
- In-group use of a reclaimed term in a friendly or self-describing way.
"""

HATE_V2 = """# Criteria

## Overview

This policy identifies hate speech: content that attacks people because of a protected
characteristic. It covers attacks on people, not criticism of beliefs, institutions or
governments.

## Definition of Terms

- **Protected characteristic**: race, ethnicity, national origin, caste, religion, sex, gender
  identity, sexual orientation, disability or serious disease.
- **Protected group**: people who share a protected characteristic, or a person singled out for
  having it.
- **Dehumanizing language**: describing people as animals, insects, filth, disease or objects,
  or as less than human.
- **Coded hate**: deliberate misspellings, number codes, symbols, or euphemisms used in place
  of a slur or an openly hateful claim.

## Interpretation of Language

- A slur used to describe or address someone counts as an attack, even in a casual tone.
- Statements about "them" or "those people" count when the context makes clear that a
  protected group is meant.
- Jokes count when their point is that a protected group is inferior, dirty, dangerous or
  deserves mistreatment.
- Treat coded hate as if the slur or claim it stands for were written out.

## Definition of Label

### Hate Speech (HS)

#### Includes

- Dehumanizing language about a protected group.
- Slurs used to demean or insult people for a protected characteristic, including coded or
  misspelled versions of slurs.
- Claims that a protected group is inferior, criminal by nature, or a threat to others.
- Harmful stereotypes stated as fact about a protected group, such as claims that its members
  are greedy, violent or dishonest by nature.
- Calls to exclude, segregate, expel or deny rights to a protected group.
- Praise or celebration of violence or atrocities committed against a protected group.

#### Excludes

- Counter-speech that quotes hateful content to condemn or report it.
- News, education and research about discrimination and hate, without endorsing it.
- Criticism of a religion, ideology or government as a set of ideas or actions, without
  attacking the people who belong to it.
- Insults based on characteristics that are not protected, such as profession, political party
  or favorite sports team.
- In-group use of a reclaimed term in a friendly or self-describing way.
"""

SELF_HARM_V1 = """# Criteria

## Overview

This policy identifies content about self-harm, including suicide, cutting and disordered
eating, that a platform would want to route to trained reviewers or support resources. It
includes people speaking about their own intent, not only content that encourages others.

## Definition of Terms

- **Self-harm**: deliberately injuring oneself, including suicide and suicide attempts,
  cutting, burning, and starving or purging to lose weight.
- **Ideation**: thoughts, wishes or plans to end one's life or hurt oneself.
- **Method detail**: information about how to self-harm, such as means, amounts, places or
  ways to hide injuries.

## Interpretation of Language

- First-person statements of wanting to die or to hurt oneself count, even when phrased
  casually, unless they are clearly a figure of speech.
- Figures of speech ("this homework is killing me", "I'm dying of laughter") do not count.
- Content about eating counts when it promotes extreme restriction, purging or dangerously
  low weight goals.

## Definition of Label

### Self-Harm (SH)

#### Includes

- Expressions of suicidal thoughts, plans or intent, or of an urge to hurt oneself.
- Descriptions of one's own past or current self-harm.
- Encouragement, dares or pressure for someone else to self-harm.
- Instructions, methods or tips for self-harm, suicide or hiding injuries.
- Content promoting disordered eating, such as goal weights far below healthy, fasting
  challenges or purging tips.

#### Excludes

- Crisis resources, hotline information and supportive replies urging someone to get help.
- Medical, educational or news content about self-harm and suicide without method detail.
- Figures of speech and exaggeration about dying or being in pain.
- Harm done to other people, which is covered by the violence policy.
- Healthy fitness, diet and weight-loss discussion.
"""

SEXUAL_V1 = """# Criteria

## Overview

This policy identifies sexually explicit content meant to arouse, and offers of sexual
services, on a platform where sexual health and relationships may still be discussed. Content
that sexualizes minors is handled by a separate child-safety policy and is always escalated.

## Definition of Terms

- **Sexually explicit**: describing sexual acts, genitals in a sexual context, or sexual
  arousal in graphic detail.
- **Sexual services**: sex work, paid sexual content, or escort offers, including links or
  contact details for them.
- **Suggestive**: flirtatious or romantic content that implies attraction without explicit
  description.

## Interpretation of Language

- Slang, euphemisms and emoji stand for the acts or body parts they usually refer to.
- Judge the purpose: a detailed description written to arouse counts; the same topic explained
  for health or safety does not.
- Fictional framing does not exempt explicit description.

## Definition of Label

### Sexual Content (SC)

#### Includes

- Explicit descriptions of sexual activity, real or fictional.
- Requests for, or offers of, sexual chat, images or role-play.
- Advertising or soliciting sexual services.
- Graphic descriptions of genitals or sexual arousal.

#### Excludes

- Sex education, sexual health and medical information.
- Suggestive or romantic content without explicit description.
- Discussion of sexual orientation or gender identity as part of who someone is.
- News and personal accounts of sexual assault told without explicit detail.
- Anatomy in a clinical, artistic or breastfeeding context.
"""

TOXIC_V1 = """# Criteria

## Overview

This policy identifies toxic speech: rude, disrespectful or hostile language likely to make a
reasonable person leave a conversation. It is about the tone aimed at others, not the topic.

## Definition of Terms

- **Directed**: aimed at a participant, another person, or a group, rather than at a thing or a
  situation.
- **Hostile tone**: insults, contempt, mockery, aggressive profanity or shouting meant to put
  someone down.

## Interpretation of Language

- Profanity counts when it is directed at someone ("shut up, you idiot"); used only for
  emphasis ("this game is so damn good") it does not.
- Sarcasm counts when its point is to belittle someone.
- Censored or misspelled insults count the same as the words they stand for.

## Definition of Label

### Toxic Speech (TX)

#### Includes

- Insults and name-calling aimed at a person or group.
- Contemptuous or demeaning remarks about someone's intelligence, appearance or worth.
- Profanity or shouting directed at another person.
- Telling someone to shut up, go away or kill themselves as a put-down.

#### Excludes

- Profanity used for emphasis or excitement and not aimed at anyone.
- Strong but civil disagreement and criticism of ideas or work.
- Quoting toxic language to report or discuss it.
- Self-directed frustration ("I'm such an idiot today").
- Friendly teasing that is clearly mutual and playful in context.
"""

VIOLENCE_V1 = """# Criteria

## Overview

This policy identifies violent content: threats, incitement, glorification of violence, and
graphic depictions of serious injury. It does not cover self-harm, which has its own policy.

## Definition of Terms

- **Threat**: a statement of intent to kill, injure or attack a person or group, whether
  direct ("I will") or conditional ("if you do X, I'll").
- **Incitement**: urging or encouraging others to commit violence.
- **Glorification**: praising a violent act or its perpetrator, or presenting it as something
  to copy.
- **Graphic depiction**: a detailed description of death, wounds, gore or torture.

## Interpretation of Language

- A threat counts even when the author may not mean it, unless it is an obvious idiom between
  people who are joking.
- Statements that someone "deserves" to be hurt or killed count as incitement when they name a
  target.
- Content about weapons counts only when it is linked to harming people.

## Definition of Label

### Violent Content (VI)

#### Includes

- Threats to kill, injure or attack a person or group.
- Calls for others to commit violence, or claims that a target deserves it.
- Praise or celebration of attacks, massacres or their perpetrators.
- Graphic descriptions of death, serious injury, gore or torture.
- Instructions for weapons or attacks meant to hurt people.

#### Excludes

- Self-defense advice and discussion of lawful use of force.
- Combat sports, hunting and fishing described in their usual context.
- Idioms and hyperbole that no reasonable reader takes as a threat ("I could kill for a
  coffee").
- Self-harm, which is covered by the self-harm policy.
"""

VIOLENCE_V2 = """# Criteria

## Overview

This policy identifies violent content: threats, incitement, glorification of violence, and
graphic depictions of serious injury presented for shock or approval. It does not cover
self-harm, which has its own policy.

## Definition of Terms

- **Threat**: a statement of intent to kill, injure or attack a person or group, whether
  direct ("I will") or conditional ("if you do X, I'll").
- **Incitement**: urging or encouraging others to commit violence.
- **Glorification**: praising a violent act or its perpetrator, or presenting it as something
  to copy.
- **Graphic depiction**: a detailed description of death, wounds, gore or torture.

## Interpretation of Language

- A threat counts even when the author may not mean it, unless it is an obvious idiom between
  people who are joking.
- Statements that someone "deserves" to be hurt or killed count as incitement when they name a
  target.
- Content about weapons counts only when it is linked to harming people.
- A graphic depiction counts only when it is presented approvingly, to shock, or for
  entertainment; a factual account of the same events does not.

## Definition of Label

### Violent Content (VI)

#### Includes

- Threats to kill, injure or attack a person or group.
- Calls for others to commit violence, or claims that a target deserves it.
- Praise or celebration of attacks, massacres or their perpetrators.
- Graphic descriptions of death, serious injury, gore or torture written to shock or to
  celebrate the suffering.
- Instructions for weapons or attacks meant to hurt people.

#### Excludes

- Self-defense advice and discussion of lawful use of force.
- Combat sports, hunting and fishing described in their usual context.
- Idioms and hyperbole that no reasonable reader takes as a threat ("I could kill for a
  coffee").
- Self-harm, which is covered by the self-harm policy.
- News reports, history, and witness or survivor accounts that describe violence factually,
  even in detail.
"""

AUTHOR = "cope-eval samples"

POLICIES = [
    ("drugs", [("2025-01-06T09:00:00Z", "first draft", DRUGS_V1)]),
    (
        "harassment",
        [
            ("2025-01-06T09:10:00Z", "first draft", HARASSMENT_V1),
            ("2025-01-13T09:10:00Z", "narrow: require an identifiable target; exclude debate", HARASSMENT_V2),
        ],
    ),
    (
        "hate-speech",
        [
            ("2025-01-06T09:20:00Z", "first draft", HATE_V1),
            ("2025-01-13T09:20:00Z", "broaden: coded slurs and stereotypes stated as fact", HATE_V2),
        ],
    ),
    ("self-harm", [("2025-01-06T09:30:00Z", "first draft", SELF_HARM_V1)]),
    ("sexual-content", [("2025-01-06T09:40:00Z", "first draft", SEXUAL_V1)]),
    ("toxic-speech", [("2025-01-06T09:50:00Z", "first draft", TOXIC_V1)]),
    (
        "violence",
        [
            ("2025-01-06T10:00:00Z", "first draft", VIOLENCE_V1),
            ("2025-01-13T10:00:00Z", "narrow: graphic depictions only when approving or for shock", VIOLENCE_V2),
        ],
    ),
]
